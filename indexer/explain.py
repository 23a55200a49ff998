"""为什么匹配: how a query and a passage were cut into words, and which rule matched each term.

The search finds a term in a passage in one of several ways, and a reader
who wonders why a passage came up deserves to see which:

- ``word``: the passage holds the term as a word of its own (or, for a term
  of several words, those words side by side);
- ``inside``: the term stands inside a longer word of the passage
  (``托管`` in ``托管服务``);
- ``across``: the term runs across words the passage was cut into
  (``贤花`` over ``黎|贤花``, a name cut by jieba);
- ``apart``: the term's words all occur, but not side by side;
- ``synonym``: a synonym or abbreviation of the term occurs (``劳动模范``
  for ``劳模``);
- ``shared``: for a question, the words it shares with the passage;
- ``missing``: the term does not occur (an OR branch, or a relaxed question).

>>> e = explain_text("爱心托管", "开展爱心托管服务。")
>>> [(t.term, t.rule) for t in e.terms]
[('爱心托管', 'word')]
>>> [(t.term, t.rule, t.matched) for t in explain_text("托管", "开展爱心托管服务。").terms]
[('托管', 'inside', ['爱心托管'])]
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from indexer.analysis import analyze
from indexer.normalize import normalize_text
from indexer.query import STOP_WORDS, parse_query
from indexer.synonyms import Synonyms

RULES = ("word", "inside", "across", "apart", "synonym", "shared", "missing")


@dataclass
class TermMatch:
    """One term of the query and how the passage holds it."""

    term: str
    words: list[str]          # how the query's term was cut
    rule: str                 # one of RULES
    matched: list[str] = field(default_factory=list)  # the passage's words that hold it
    via: str | None = None    # the synonym that matched, for rule "synonym"


@dataclass
class Explanation:
    query: str
    passage_id: str
    query_words: list[str]
    passage_words: list[str]  # the passage as it was cut (the first MAX_WORDS words)
    terms: list[TermMatch]

    def to_json(self) -> dict:
        return asdict(self)


MAX_WORDS = 400  # of the passage, shown as it was cut


def _words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of normalised ``text``."""
    return [(w, s, e) for w, _, s, e in analyze(text).words]


def _adjacent(seq: list[str], words: list[str]) -> bool:
    n = len(words)
    return any(seq[i:i + n] == words for i in range(len(seq) - n + 1))


def _term_match(term: str, passage: str, tokens: list[tuple[str, int, int]],
                synonyms: Synonyms | None, question: bool) -> TermMatch:
    compact = re.sub(r"\s+", "", normalize_text(term))
    words = [w for w, _, _ in _words(term)]
    seq = [w for w, _, _ in tokens]
    if words and _adjacent(seq, words):
        return TermMatch(term, words, "word", words)
    at = passage.find(compact) if compact else -1
    if at >= 0:
        end = at + len(compact)
        covering = [w for w, s, e in tokens if s < end and e > at]
        inside = len(covering) == 1
        return TermMatch(term, words, "inside" if inside else "across", covering)
    content = [w for w in words if w not in STOP_WORDS] or words
    present = [w for w in content if w in seq]
    if question and present:
        return TermMatch(term, words, "shared", present)
    if len(content) > 1 and len(present) == len(content):
        return TermMatch(term, words, "apart", present)
    for other in (synonyms.of(compact) if synonyms else []):
        if normalize_text(other) in passage:
            return TermMatch(term, words, "synonym", [other], via=other)
    return TermMatch(term, words, "missing")


def explain_text(query: str, text: str, passage_id: str = "",
                 synonyms: Synonyms | None = None) -> Explanation:
    """How ``query`` matches the passage ``text``, term by term (negated terms left out)."""
    passage = normalize_text(text)
    tokens = _words(text)
    terms: list[TermMatch] = []
    query_words: list[str] = []
    for group in parse_query(query):
        for part in group:
            if part.negated:
                continue
            words = [w for w, _, _ in _words(part.text)]
            query_words.extend(words)
            question = not part.phrase and len(words) > 3
            terms.append(_term_match(part.text, passage, tokens, synonyms, question))
    return Explanation(query, passage_id, query_words,
                       [w for w, _, _ in tokens[:MAX_WORDS]], terms)
