"""The one way text becomes words: normalise, then cut.

Indexing (:class:`ChineseTextField`), the Whoosh tokenizer
(:class:`JiebaTokenizer`), queries (:func:`analyze`) and highlighting
(:func:`normalize`) all go through this module, so a word in a query is
always spelt as the same word in the index.

The text is normalised first (:func:`indexer.normalize.normalize_text`: one
character for one character), then split into runs: runs of Chinese
characters go to the segmenter, runs of letters and digits become one
lower-case word each (``25.6`` stays one word), white space is skipped, and
each run of punctuation leaves a one-position gap so that a phrase never
matches across a comma.

Which words a run is cut into depends on the user dictionaries, so there is
no global dictionary: each corpus has its own :class:`~indexer.segmenter.Segmenter`
(``Store.segmenter()``), and the code that reads or writes an index says
which one applies with :func:`using` (``Store.transaction``, whose forked
MpWriter workers inherit it, and ``SearchService`` for queries and 为什么匹配;
it is a context variable, so each thread of a server has its own). Whoosh
pickles the tokenizer and the field into the index's schema, so
they hold no dictionary themselves: they cut with the segmenter in force,
or, outside any :func:`using`, with the bundled dictionary alone. The
tokenizer and the field must stay importable at this path.

>>> from indexer.segmenter import Dictionary, segmenter_for
>>> segment("推进暖企行动计划")               # the bundled dictionary alone
['推进', '暖', '企', '行动计划']
>>> corpus = segmenter_for([BUNDLED_DICTIONARY, Dictionary("userdict.dic", "暖企行动".encode())])
>>> with using(corpus):
...     segment("推进暖企行动计划")
['推进', '暖企行动', '计划']
>>> segment("推进暖企行动计划")               # and nothing of it stays behind
['推进', '暖', '企', '行动计划']
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from whoosh import fields
from whoosh.analysis import Composable, Token, Tokenizer

from indexer.normalize import IGNORABLE, normalize_text
from indexer.segmenter import BUNDLED_DICTIONARY, JIEBA_HAN, USE_HMM, Segmenter, segmenter_for

__all__ = ["BUNDLED_DICTIONARY", "USE_HMM", "Analyzed", "ChineseAnalyzer", "ChineseTextField",
           "JiebaTokenizer", "analyze", "current_segmenter", "has_chinese", "iter_words",
           "normalize", "segment", "using"]

normalize = normalize_text

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(
    rf"(?P<han>[{JIEBA_HAN}]+)"
    # Ideographs outside jieba's range are one word each, as jieba cuts them.
    rf"|(?P<char>[{_CJK}])"
    rf"|(?P<word>[0-9]+(?:\.[0-9]+)+|[^\W_{_CJK}]+)"
    r"|(?P<space>\s+)"
    r"|(?P<punct>(?:[^\w\s]|_)+)",
)
_HAN_CHAR = re.compile(rf"[{_CJK}]")

_current: contextvars.ContextVar[Segmenter | None] = contextvars.ContextVar(
    "zhsearch_segmenter", default=None)


def has_chinese(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


@contextmanager
def using(segmenter: Segmenter) -> Iterator[Segmenter]:
    """Cut with ``segmenter`` inside this block (this thread, and processes it forks)."""
    token = _current.set(segmenter)
    try:
        yield segmenter
    finally:
        _current.reset(token)


def current_segmenter() -> Segmenter:
    """The segmenter in force: the one of the enclosing :func:`using`, or the bundled one."""
    return _current.get() or _bundled_segmenter()


@functools.lru_cache(maxsize=1)
def _bundled_segmenter() -> Segmenter:
    # Looked up once: reading and hashing the dictionary for every passage
    # cut outside a store made cutting 10 times slower.
    return segmenter_for([BUNDLED_DICTIONARY])


class Analyzed(NamedTuple):
    """Normalised text and its words as ``(word, position, start, end)``."""

    text: str
    words: list[tuple[str, int, int, int]]


def analyze(text: str, segmenter: Segmenter | None = None) -> Analyzed:
    """Normalise, then cut: the analysis of a document or a query.

    >>> analyze("勞模，ＩＢＭ")
    Analyzed(text='劳模,ibm', words=[('劳模', 0, 0, 2), ('ibm', 2, 3, 6)])
    """
    normalised = normalize_text(text)
    return Analyzed(normalised, list(iter_words(normalised, segmenter)))


def iter_words(text: str, segmenter: Segmenter | None = None) -> Iterator[tuple[str, int, int, int]]:
    """Yield ``(word, position, start, end)`` for each word of normalised text.

    >>> [w for w, _, _, _ in iter_words("劳模精神、劳动精神 25.6 万次")]
    ['劳模', '精神', '劳动', '精神', '25.6', '万次']

    Default-ignorable characters (zero-width, BiDi controls) are cut around,
    as if absent; the offsets of the words still point into ``text``:

    >>> list(iter_words("工\u202e会"))
    [('工会', 0, 0, 3)]
    """
    if not text.isascii() and IGNORABLE.search(text):
        kept = [i for i, ch in enumerate(text) if not IGNORABLE.match(ch)]
        for word, pos, start, end in _iter_words(IGNORABLE.sub("", text), segmenter):
            yield word, pos, kept[start], kept[end - 1] + 1
        return
    yield from _iter_words(text, segmenter)


def _iter_words(text: str, segmenter: Segmenter | None) -> Iterator[tuple[str, int, int, int]]:
    matches = list(_RUNS.finditer(text))
    runs = [m.group() for m in matches if m.lastgroup == "han"]
    words = (segmenter or current_segmenter()).cut_runs(runs)
    i = pos = 0
    for match in matches:
        kind = match.lastgroup
        start = match.start()
        if kind == "han":
            stop = match.end()
            while start < stop:
                word = words[i]
                i += 1
                end = start + len(word)
                yield word, pos, start, end
                pos += 1
                start = end
            i += 1  # the RUN_BREAK after this run
        elif kind == "word" or kind == "char":
            yield match.group(), pos, start, match.end()
            pos += 1
        elif kind == "punct":
            pos += 1


def segment(text: str, segmenter: Segmenter | None = None) -> list[str]:
    """The words of ``text`` after normalisation, in order."""
    return [word for word, _, _, _ in iter_words(normalize_text(text), segmenter)]


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer: normalises, then cuts with the segmenter in force.

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
        for word, pos, start, end in analyze(value).words:
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
    """A TEXT field that indexes straight from :func:`analyze`.

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
