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

from indexer.normalize import normalize_text

FRAGMENT_CHARS = 160
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”’」』）)]*")


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
    """

    def __init__(self, needles: Iterable[str]):
        ordered = sorted({n for n in needles if n and n.strip()}, key=len, reverse=True)
        # Each needle on its own, so that overlapping matches are all found.
        self._patterns = [re.compile(_needle_pattern(n)) for n in ordered]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of ``text`` matching any needle; overlapping or adjacent spans merged."""
        if not self._patterns:
            return []
        normalised = normalize_text(text)
        spans = sorted(m.span() for p in self._patterns for m in p.finditer(normalised))
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def snippet(self, text: str, size: int = FRAGMENT_CHARS) -> Snippet:
        """A sentence-sized stretch of ``text`` around its first matches."""
        spans = self.spans(text)
        start, end = fragment_bounds(text, spans, size)
        return Snippet(text, start, end, tuple(spans))


@dataclass(frozen=True)
class Snippet:
    """An excerpt of a passage, ``text[start:end]``, with the matched spans
    (offsets into ``text``); each front door renders it its own way.

    >>> snippet = Highlighter(["劳模"]).snippet("<b>劳模</b>精神")
    >>> snippet.html()
    '&lt;b&gt;<mark>劳模</mark>&lt;/b&gt;精神'
    >>> list(snippet.pieces())
    [('<b>', False), ('劳模', True), ('</b>精神', False)]
    """

    text: str
    start: int
    end: int
    spans: tuple[tuple[int, int], ...]

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """The excerpt as ``(text, matched)`` pieces, "…" where it is cut."""
        at = self.start
        if self.start > 0:
            yield "…", False
        for s, e in self.spans:
            s, e = max(s, self.start), min(e, self.end)
            if s >= e:
                continue
            if s > at:
                yield self.text[at:s], False
            yield self.text[s:e], True
            at = e
        if at < self.end:
            yield self.text[at:self.end], False
        if self.end < len(self.text):
            yield "…", False

    def html(self) -> str:
        """Escaped HTML with ``<mark>`` around the matched characters."""
        return "".join(f"<mark>{html.escape(t)}</mark>" if marked else html.escape(t)
                       for t, marked in self.pieces())


def match_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """:meth:`Highlighter.spans` for one text."""
    return Highlighter(needles).spans(text)


def mark_html(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` as escaped HTML with ``<mark>`` around the spans."""
    end = len(text) if end is None else end
    out, at = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[at:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        at = e
    out.append(html.escape(text[at:end]))
    return "".join(out)


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def fragment_bounds(text: str, spans: list[tuple[int, int]],
                    size: int = FRAGMENT_CHARS) -> tuple[int, int]:
    """A sentence-sized stretch of ``text`` around its first matches."""
    if len(text) <= size:
        return 0, len(text)
    if not spans:
        return 0, size
    sentences = _sentences(text)
    first = next(i for i, (s, e) in enumerate(sentences) if e > spans[0][0])
    start, end = sentences[first]
    for s, e in sentences[first + 1:]:
        if e - start > size:
            break
        end = e
    if end - start > size * 1.5:
        # One long sentence: a window around the first match.
        start = max(start, spans[0][0] - size // 3)
        end = min(end, start + size)
    return start, end


def highlight(text: str, needles: Iterable[str], size: int = FRAGMENT_CHARS) -> str:
    """An escaped HTML fragment of ``text`` with the needles marked.

    >>> highlight("<b>劳模</b>精神", ["劳模"])
    '&lt;b&gt;<mark>劳模</mark>&lt;/b&gt;精神'
    """
    return Highlighter(needles).snippet(text, size).html()
