"""Find the matched characters of a passage: spans, snippets, and their HTML.

Matching runs on the normalised text, whose characters line up one to one
with the original, so the marks land on the original characters even where
the document was in traditional characters or full-width letters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from indexer.analysis import normalize
from indexer.punctuation import FRAGMENT_ENDS, QUOTE_CLOSERS, char_class

FRAGMENT_CHARS = 160
_SENTENCE_END = re.compile(char_class(FRAGMENT_ENDS) + "+" + char_class(QUOTE_CLOSERS) + "*")


def _needle_pattern(needle: str) -> str:
    # White space in the text does not break a match ("25.6 万次" for "25.6万次").
    body = r"\s*".join(re.escape(ch) for ch in needle if not ch.isspace())
    # Latin words match whole words only: "ai" must not mark "said".
    if needle[:1].isascii() and needle[:1].isalnum():
        body = r"(?<![a-z0-9])" + body
    if needle[-1:].isascii() and needle[-1:].isalnum():
        body += r"(?![a-z0-9])"
    return body


class Highlighter:
    """The query's needles, compiled once per request and applied to every hit.

    >>> Highlighter(["爱心托管", "托管", "开设"]).spans("爱心托管服务，開設爱心托管班")
    [(0, 4), (7, 13)]

    A single character beside longer needles (the 几 of a question) is not
    marked on its own: it would speckle the passage and say nothing.

    >>> Highlighter(["几", "工会"]).spans("几个工会")
    [(2, 4)]
    """

    def __init__(self, needles: Iterable[str]):
        ordered = sorted({n for n in needles if n and n.strip()}, key=len, reverse=True)
        if ordered and len(ordered[0].strip()) > 1:
            ordered = [n for n in ordered if len(n.strip()) > 1]
        # Each needle on its own, so that overlapping matches are all found.
        self._patterns = [re.compile(_needle_pattern(n)) for n in ordered]

    def _matches(self, text: str) -> list[list[tuple[int, int]]]:
        """The spans of each needle in ``text``, needle by needle."""
        if not self._patterns:
            return []
        normalised = normalize(text)
        return [[m.span() for m in p.finditer(normalised)] for p in self._patterns]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of ``text`` matching any needle; overlapping or adjacent spans merged."""
        return _merge(sorted(span for found in self._matches(text) for span in found))

    def snippet(self, text: str, size: int = FRAGMENT_CHARS) -> Snippet:
        """Sentences of ``text`` that show every needle the passage holds, about ``size`` long.

        >>> text = "第一句说工会。" + "无关的话。" * 30 + "第二句说劳模。"
        >>> Highlighter(["工会", "劳模"]).snippet(text).html()
        '第一句说<mark>工会</mark>。…第二句说<mark>劳模</mark>。'
        """
        found = self._matches(text)
        spans = _merge(sorted(span for each in found for span in each))
        return Snippet(text, tuple(_fragments(text, found, size)), tuple(spans))


@dataclass(frozen=True)
class Snippet:
    """Excerpts of a passage (``fragments``: bounds into ``text``, in order)
    with the matched spans (offsets into ``text``); each front door renders
    it its own way.

    >>> snippet = Highlighter(["劳模"]).snippet("<b>劳模</b>精神")
    >>> snippet.html()
    '&lt;b&gt;<mark>劳模</mark>&lt;/b&gt;精神'
    >>> list(snippet.pieces())
    [('<b>', False), ('劳模', True), ('</b>精神', False)]
    """

    text: str
    fragments: tuple[tuple[int, int], ...]
    spans: tuple[tuple[int, int], ...]

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """The excerpts as ``(text, matched)`` pieces, "…" wherever the text is cut."""
        last = 0
        for start, end in self.fragments:
            if start > last:
                yield "…", False
            at = start
            for s, e in self.spans:
                s, e = max(s, start), min(e, end)
                if s >= e:
                    continue
                if s > at:
                    yield self.text[at:s], False
                yield self.text[s:e], True
                at = e
            if at < end:
                yield self.text[at:end], False
            last = end
        if last < len(self.text):
            yield "…", False

    def html(self) -> str:
        """Escaped HTML with ``<mark>`` around the matched characters."""
        return "".join(f"<mark>{html.escape(t)}</mark>" if marked else html.escape(t)
                       for t, marked in self.pieces())


def match_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """:meth:`Highlighter.spans` for one text."""
    return Highlighter(needles).spans(text)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _fragments(text: str, found: list[list[tuple[int, int]]],
               size: int) -> list[tuple[int, int]]:
    """The stretches of ``text`` a snippet shows, in order.

    Sentences are taken greedily, the one holding the most needles not yet
    shown first (the answer sentence of a question holds most of its
    words), until every needle the passage holds is shown or ``size`` is
    spent; a sentence longer than what is left is cut to a window around its
    first match. A single sentence is filled up with the ones after it.
    """
    if len(text) <= size:
        return [(0, len(text))]
    if not any(found):
        return [(0, size)]
    sentences = _sentences(text)
    holds = [{i for i, spans in enumerate(found) for s, e in spans if s < end and e > start}
             for start, end in sentences]
    wanted = {i for i, spans in enumerate(found) if spans}
    chosen: list[tuple[int, int]] = []
    budget = size
    while wanted and budget > size // 8:
        best = max(range(len(sentences)), key=lambda k: (len(holds[k] & wanted), -k))
        news = holds[best] & wanted
        if not news:
            break
        start, end = sentences[best]
        if end - start > budget:
            first = min(s for i in news for s, _ in found[i] if start <= s < end)
            start = max(start, first - budget // 3)
            end = min(end, start + budget)
        chosen.append((start, end))
        budget -= end - start
        wanted -= {i for i in news if any(start <= s and e <= end for s, e in found[i])}
        holds[best] = set()
    if len(chosen) == 1:
        start, end = chosen[0]
        for s, e in sentences:
            if s >= end and e - start <= size:
                end = e
            elif s >= end:
                break
        chosen[0] = (start, end)
    return _merge(sorted(chosen))


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds




def highlight(text: str, needles: Iterable[str], size: int = FRAGMENT_CHARS) -> str:
    """An escaped HTML fragment of ``text`` with the needles marked.

    >>> highlight("<b>劳模</b>精神", ["劳模"])
    '&lt;b&gt;<mark>劳模</mark>&lt;/b&gt;精神'
    """
    return Highlighter(needles).snippet(text, size).html()
