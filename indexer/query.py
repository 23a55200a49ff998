"""The query language, and its translation into Whoosh queries.

    劳模 工会          both must occur (AND)
    "爱心托管服务"     the exact text
    劳模 -表彰         passages with 劳模 but without 表彰
    劳模 OR 工匠       either one
    爱心托管           one term of several words: the adjacent phrase ranks first

Any other character is text to look for: the Whoosh query syntax (``*``,
``(``, ``:`` …) is never interpreted, so no input can make a query fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq

from indexer.analysis import analyze, has_chinese
from indexer.docsets import AdjacentWords, AnyTerm
from indexer.normalize import FULLWIDTH, remove_ignorable
from indexer.synonyms import Synonyms
from indexer.vocabulary import Vocabulary

FIELD = "content"
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32  # distinct space-separated terms; the rest of a query is ignored
# Substrings longer than this are matched as phrases of their words only:
# the ways to spell a long string across word boundaries grow too fast.
MAX_SUBSTRING_CHARS = 24
MAX_SPELLINGS = 64
# Every content word must occur, unless the query reads as a question or a
# pasted sentence: more than this many content words, and question words,
# particles or punctuation in it, or longer than LONG_QUERY_CHARS. Such a
# query ranks passages by how much they share with it.
MAX_AND_WORDS = 3
LONG_QUERY_CHARS = 12
# A passage found only through a synonym ranks after those holding the query.
SYNONYM_BOOST = 0.05
# In a question, a pair of its adjacent words found adjacent in a passage.
PAIR_BOOST = 0.5
# A word of a longer query found only inside a longer word of a passage.
INSIDE_BOOST = 0.5
# Words that make a query read as a question, to be ranked by overlap when
# no passage holds all of its words.
QUESTION_WORDS = frozenset(
    "什么 哪 哪些 哪个 哪里 哪儿 哪年 谁 怎么 怎样 如何 为什么 为何 多少 几 是否 是不是 吗 呢 请问".split())

# Question words and particles: they may score, but never decide a match.
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 嘛 是 在 有 和 与 及 或 也 都 就 被 把 将 对 于 从 以 之 其 这 那 "
    "什么 哪 哪些 哪个 哪里 哪儿 哪年 谁 怎么 怎样 如何 为什么 为何 多少 几 是否 是不是 "
    "请问 一个 一些 这个 那个 呢 吗".split()
)

_PART = re.compile(r'(-?)(?:["“”]([^"“”]*)["“”]?|(\S+))')
# What a Chinese input method types for the query syntax: full-width quotes,
# minus, OR and AND (＂劳模＂ ＯＲ 工匠 found nothing where "劳模" OR 工匠 found
# 16 passages), and corner brackets as quotes.
_SYNTAX = dict(FULLWIDTH) | {ord(q): '"' for q in "「」『』"}


def query_syntax(text: str) -> str:
    """The query as the parser reads it: full-width syntax made ASCII, and the
    characters that show nothing removed.

    >>> query_syntax("＂劳模＂ ＯＲ 「工匠」 －表彰")
    '"劳模" OR "工匠" -表彰'
    """
    return remove_ignorable(text).translate(_SYNTAX)


@dataclass
class QueryPart:
    text: str
    phrase: bool = False
    negated: bool = False


def _parse(text: str) -> tuple[list[list[QueryPart]], bool]:
    """Split a query into AND-ed groups of OR-ed parts; and whether
    part of it was left out (:func:`query_truncated`).

    >>> _parse('劳模 OR 工匠 "爱心 托管" -表彰')
    ([[QueryPart(text='劳模', phrase=False, negated=False), QueryPart(text='工匠', phrase=False, negated=False)], [QueryPart(text='爱心 托管', phrase=True, negated=False)], [QueryPart(text='表彰', phrase=False, negated=True)]], False)
    """
    groups: list[list[QueryPart]] = []
    cut = bool(text[MAX_QUERY_CHARS:].strip())
    seen: set[tuple] = set()
    join_next = False
    for match in _PART.finditer(query_syntax(text[:MAX_QUERY_CHARS])):
        minus, quoted, bare = match.groups()
        if bare is not None and bare in ("OR", "|"):
            join_next = bool(groups)
            continue
        if bare is not None and bare in ("AND", "&&", "NOT") or (bare == "-" and not minus):
            continue
        part = QueryPart(quoted if quoted is not None else bare, quoted is not None, bool(minus))
        key = (part.text, part.phrase, part.negated)
        # A repeated term adds nothing but work: Whoosh's nested ANDs grow
        # quadratically (300 times 新 took 30 s).
        if not part.text.strip() or key in seen:
            continue
        seen.add(key)
        if len(seen) > MAX_TERMS:
            cut = True
            break
        if join_next and not part.negated and not groups[-1][0].negated:
            groups[-1].append(part)
        else:
            groups.append([part])
        join_next = False
    return groups, cut


def parse_query(text: str) -> list[list[QueryPart]]:
    """Split a query into AND-ed groups of OR-ed parts.

    >>> parse_query('劳模 OR 工匠')
    [[QueryPart(text='劳模', phrase=False, negated=False), QueryPart(text='工匠', phrase=False, negated=False)]]
    """
    return _parse(text)[0]


def query_truncated(text: str) -> bool:
    """True when only the beginning of ``text`` is searched: it is longer
    than MAX_QUERY_CHARS characters or has more than MAX_TERMS distinct terms.

    >>> query_truncated("劳模 工匠"), query_truncated("劳" * 1001)
    (False, True)
    >>> query_truncated(" ".join(f"词{i}" for i in range(33)))
    True
    """
    return _parse(text)[1]


@dataclass
class CompiledQuery:
    query: wq.Query | None
    needles: list[str] = field(default_factory=list)  # normalised text to highlight
    words: list[str] = field(default_factory=list)    # the query's words, for suggestions
    # Compiled with ``relaxed=True`` it would be another query: only then is
    # a second try worth its time (a zero-hit query compiled twice for nothing).
    relaxable: bool = False
    # What the query's -terms match: grouped by article, an article holding
    # any of it anywhere is left out, not only its passages that hold it.
    excluded: wq.Query | None = None
    # A question or a pasted sentence: passages rank by the words they share
    # with it, and a title that shares one of them is no evidence for its
    # article (indexer/relevance.py; CMRC MRR@10 fell from 0.923 to 0.748
    # when it was).
    overlap: bool = False


def _pieces(words: list[tuple[str, int, int, int]]) -> list[list[tuple[str, int, int, int]]]:
    """The words of a text, split where punctuation stands between them."""
    pieces: list[list[tuple[str, int, int, int]]] = []
    last_pos = None
    for word in words:
        if last_pos is None or word[1] != last_pos + 1:
            pieces.append([])
        pieces[-1].append(word)
        last_pos = word[1]
    return pieces


def _spellings(text: str, vocab: Vocabulary) -> list[wq.Query]:
    """Queries for every way ``text`` can stand in the index's words.

    Inside one word (``托管`` in ``托管服务``), or across adjacent words: the end
    of one word, whole words, then the start of another (``贤花`` over
    ``黎|贤|花``).
    """
    containing = vocab.containing(text)
    found: list[wq.Query] = [AnyTerm(FIELD, containing)] if containing else []
    if len(text) > MAX_SUBSTRING_CHARS:
        return found

    def tails(rest: str) -> list[list[list[str]]]:
        """Ways to spell ``rest`` as whole words then the start of a word."""
        ways = []
        starting = vocab.starting_with(rest)
        if starting:
            ways.append([starting])
        for j in range(1, len(rest)):
            if rest[:j] in vocab:
                ways.extend([[rest[:j]], *tail] for tail in tails(rest[j:]))
            if len(ways) > MAX_SPELLINGS:
                break
        return ways

    for i in range(1, len(text)):
        heads = vocab.ending_with(text[:i])
        if not heads:
            continue
        for tail in tails(text[i:]):
            found.append(AdjacentWords(FIELD, [heads, *tail]))
            if len(found) > MAX_SPELLINGS:
                return found
    return found


def _weighted(q: wq.Query, factor: float) -> wq.Query:
    """``q`` with every term's weight multiplied by ``factor``.

    The boost of a compound query is lost when Whoosh normalises nested ORs,
    so the weight goes onto the leaves.
    """
    if q.is_leaf():
        # A shallow copy: the word lists of AnyTerm / AdjacentWords are
        # shared, never changed (a deep copy was 5 % of a search).
        q = copy.copy(q)
        q.boost *= factor
        return q
    return q.apply(lambda child: _weighted(child, factor))


def _exact(piece: list[tuple[str, int, int, int]], text: str, vocab: Vocabulary,
           as_words_only: bool = False) -> wq.Query:
    """Passages holding this run of words as one adjacent stretch of text."""
    words = [w for w, _, _, _ in piece]
    as_words = wq.Term(FIELD, words[0]) if len(words) == 1 else wq.Phrase(FIELD, words)
    compact = re.sub(r"\s+", "", text[piece[0][2]:piece[-1][3]])
    if not has_chinese(compact) or as_words_only:
        return as_words
    # Word matches rank above matches inside or across other words.
    return wq.Or([_weighted(as_words, 2.0), *_spellings(compact, vocab)])


def _part_query(part: QueryPart, vocab: Vocabulary, synonyms: Synonyms | None = None,
                relaxed: bool = False, rare: Callable[[str], bool] | None = None
                ) -> tuple[wq.Query | None, list[str], list[str], bool, bool]:
    q, needles, words, relaxable, overlap = _literal_part_query(part, vocab, relaxed, rare)
    if q is None or part.phrase or synonyms is None:
        return q, needles, words, relaxable, overlap
    others = []
    for other in synonyms.of(re.sub(r"\s+", "", part.text)):
        other_q, other_needles, *_ = _literal_part_query(QueryPart(other, phrase=True), vocab)
        if other_q is not None:
            others.append(other_q)
            needles = needles + other_needles
    if others:
        q = wq.Or([q, _weighted(wq.Or(others), SYNONYM_BOOST)])
    return q, needles, words, relaxable, overlap


def _word(word: str, vocab: Vocabulary) -> wq.Query:
    """One word of a longer query: the word itself, or inside a longer one
    (总工会 in 县总工会), ranked lower. Single characters stand inside too
    many words to be worth it."""
    term = wq.Term(FIELD, word)
    if len(word) < 2 or not has_chinese(word):
        return term
    longer = [w for w in vocab.containing(word) if w != word]
    return wq.Or([term, AnyTerm(FIELD, longer, boost=INSIDE_BOOST)]) if longer else term


def _literal_part_query(part: QueryPart, vocab: Vocabulary, relaxed: bool = False,
                        rare: Callable[[str], bool] | None = None
                        ) -> tuple[wq.Query | None, list[str], list[str], bool, bool]:
    """The part's query, what to highlight, its words, whether a relaxed
    compile would differ, and whether it ranks by overlap (a sentence).
    ``rare`` says whether a single character is rare enough in the index to
    answer a question on its own (蓍, a plant's name; never 人)."""
    text, analysed = analyze(part.text)
    pieces = _pieces(analysed)
    if not pieces:
        return None, [], [], False, False
    needles = [re.sub(r"\s+", "", text[p[0][2]:p[-1][3]]) for p in pieces]
    words = [w for p in pieces for w, _, _, _ in p]
    content = [w for w in dict.fromkeys(words) if w not in STOP_WORDS] or words
    question = bool(QUESTION_WORDS & set(words)) or text.rstrip().endswith("?") \
        or len(text) > LONG_QUERY_CHARS
    long_sentence = len(content) > MAX_AND_WORDS and (
        len(pieces) > 1 or len(content) < len(set(words)) or len(text) > LONG_QUERY_CHARS)
    reads_as_sentence = not part.phrase and len(content) > 1 and (
        (relaxed and question) or long_sentence)
    relaxable = not part.phrase and len(content) > 1 and question and not long_sentence
    # A sentence or a question is not looked for inside or across other
    # words: as a whole it is rare, and its words carry the match.
    exact = [_exact(p, text, vocab, as_words_only=reads_as_sentence or question) for p in pieces]
    exact_query = exact[0] if len(exact) == 1 else wq.And(exact)
    if part.phrase or len(words) == 1:
        return exact_query, needles, words, False, False
    if reads_as_sentence:
        # Ranked by the content words it shares (particles would only make
        # every passage a candidate to score), and by the pairs of adjacent
        # words it shares: a question repeats its passage's wording.
        pairs = {(a[0], b[0]) for p in pieces for a, b in zip(p, p[1:])
                 if a[0] not in STOP_WORDS or b[0] not in STOP_WORDS}
        shared_pairs = [wq.Phrase(FIELD, list(pair), boost=PAIR_BOOST) for pair in sorted(pairs)]
        loose = wq.Or([_word(w, vocab) for w in content] + shared_pairs)
        # A passage that shares only common single characters with the
        # question (人 of 多少人) is not an answer: it must hold one of its
        # longer words, two of its words side by side (a name jieba cuts
        # 黄鳍|紫|鱼 is found by its pairs: requiring a longer word alone cost
        # 53 of 1,002 CMRC questions their answer), or a rare character.
        # The filter scores 1.0 everywhere: ranks stay.
        telling = [w for w in content if len(w) >= 2 or (rare is not None and rare(w))]
        if len(telling) < len(content) and (telling or shared_pairs):
            loose = wq.And([wq.ConstantScoreQuery(
                wq.Or([_word(w, vocab) for w in telling] + shared_pairs), 0.0), loose])
    else:
        loose = wq.And([_word(w, vocab) for w in content])
    # The words anywhere in the passage match; the adjacent phrase ranks first.
    return (wq.Or([_weighted(exact_query, 3.0), loose]), needles + content, words, relaxable,
            reads_as_sentence)


def compile_query(text: str, vocab: Vocabulary, synonyms: Synonyms | None = None,
                  relaxed: bool = False, rare: Callable[[str], bool] | None = None
                  ) -> CompiledQuery:
    """Translate a user's query into one Whoosh query over the ``content`` field.

    ``relaxed`` ranks every term of several words by the words it shares
    with a passage instead of requiring them all: the second try for a
    query that found nothing. ``rare(char)``: a single character few
    passages hold, which may answer a question alone.
    """
    required: list[wq.Query] = []
    excluded: list[wq.Query] = []
    needles: list[str] = []
    all_words: list[str] = []
    relaxable = overlap = False
    for group in parse_query(text):
        alternatives = []
        for part in group:
            q, part_needles, words, part_relaxable, part_overlap = _part_query(
                part, vocab, synonyms, relaxed, rare)
            if q is None:
                continue
            if part.negated:
                excluded.append(q)
            else:
                relaxable = relaxable or part_relaxable
                overlap = overlap or part_overlap
                alternatives.append(q)
                needles.extend(part_needles)
                all_words.extend(words)
        if alternatives:
            required.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
    if not required:
        return CompiledQuery(None, [], all_words)
    positive = required[0] if len(required) == 1 else wq.And(required)
    unwanted = None
    if excluded:
        unwanted = excluded[0] if len(excluded) == 1 else wq.Or(excluded)
        positive = wq.AndNot(positive, unwanted)
    return CompiledQuery(positive, list(dict.fromkeys(needles)), all_words, relaxable, unwanted,
                         overlap)
