"""Chinese word segmentation for Whoosh.

Whoosh pickles the analyzer and the field type into the index's schema, so
``JiebaTokenizer`` and ``ChineseTextField`` must stay importable at this path.

The text is normalised first (:func:`indexer.normalize.normalize_text`), then
split into runs: runs of Chinese characters go to jieba, runs of letters and
digits become one lower-case word each (``25.6`` stays one word), white space
is skipped, and each run of punctuation leaves a one-position gap so that a
phrase never matches across a comma.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import jieba
from whoosh import fields
from whoosh.analysis import Composable, Token, Tokenizer

from indexer.normalize import normalize_text

jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict…" on every command

# jieba's hidden Markov model guesses unknown words (names) at ~15 % of the
# speed; substring matching already finds names cut into single characters,
# and dictionary-only cutting segments a word the same way in every context.
USE_HMM = False

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(
    rf"(?P<han>[{_CJK}]+)"
    rf"|(?P<word>[0-9]+(?:\.[0-9]+)+|[^\W_{_CJK}]+)"
    r"|(?P<space>\s+)"
    r"|(?P<punct>(?:[^\w\s]|_)+)",
)
_HAN_CHAR = re.compile(rf"[{_CJK}]")

BUNDLED_DICTIONARY = Path(__file__).with_name("data") / "userdict.txt"
_loaded_dictionaries: list[str] = []


def has_chinese(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


def load_dictionaries(*paths: Path) -> None:
    """Load jieba user dictionaries once each (the bundled one always first)."""
    for path in (BUNDLED_DICTIONARY, *paths):
        path = Path(path)
        if not path.is_file():
            continue
        stat = path.stat()
        # An edited dictionary is loaded again: its new words must count.
        key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        if key in _loaded_dictionaries:
            continue
        jieba.load_userdict(str(path))
        _loaded_dictionaries.append(key)


def iter_words(text: str) -> Iterator[tuple[str, int, int, int]]:
    """Yield ``(word, position, start, end)`` for each word of normalised text.

    >>> [w for w, _, _, _ in iter_words("劳模精神、劳动精神 25.6 万次")]
    ['劳模', '精神', '劳动', '精神', '25.6', '万次']
    """
    if not _loaded_dictionaries:
        load_dictionaries()
    cut = jieba.cut
    pos = 0
    for match in _RUNS.finditer(text):
        kind = match.lastgroup
        start = match.start()
        if kind == "han":
            for word in cut(match.group(), HMM=USE_HMM):
                end = start + len(word)
                yield word, pos, start, end
                pos += 1
                start = end
        elif kind == "word":
            yield match.group(), pos, start, match.end()
            pos += 1
        elif kind == "punct":
            pos += 1


def segment(text: str) -> list[str]:
    """The words of ``text`` after normalisation, in order."""
    return [word for word, _, _, _ in iter_words(normalize_text(text))]


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer: normalises, then segments with jieba.

    Positions are ordinal word numbers (punctuation leaves a gap), and
    character offsets point into the original, unnormalised value.

    >>> [(t.text, t.pos, t.startchar, t.endchar) for t in
    ...  JiebaTokenizer()("勞模，ＩＢＭ", positions=True, chars=True)]
    [('劳模', 0, 0, 2), ('ibm', 2, 3, 6)]
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        assert isinstance(value, str), f"{value!r} is not unicode"
        token = Token(positions, chars, removestops=removestops, mode=mode,
                      **kwargs)
        if not tokenize:
            token.original = token.text = normalize_text(value)
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        for word, pos, start, end in iter_words(normalize_text(value)):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def ChineseAnalyzer() -> Composable:
    """The analyzer of the ``content`` field: :class:`JiebaTokenizer` alone."""
    return JiebaTokenizer()


class ChineseTextField(fields.TEXT):
    """A TEXT field that indexes straight from :func:`iter_words`.

    ``TEXT.index`` builds a ``Token`` per word and runs it through the filter
    chain; building the postings from plain tuples does the same work at a
    fraction of the Python overhead. Queries still go through the analyzer,
    which yields the same words.
    """

    def __init__(self, stored: bool = True):
        super().__init__(analyzer=ChineseAnalyzer(), phrase=True, stored=stored)

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            return super().index(value, **kwargs)
        postings: dict[str, list[int]] = defaultdict(list)
        for word, pos, _, _ in iter_words(normalize_text(value)):
            postings[word].append(pos)
        encode = self.format.encode
        boost = self.format.field_boost
        return [
            (word.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist))
            for word, poslist in postings.items()
        ]

