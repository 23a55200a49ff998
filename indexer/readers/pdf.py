"""PDF reports: the text layer of each page, read column by column.

A newspaper e-paper page holds several articles in narrow columns, with
headlines running across them. Reading its text line by line across the
page would interleave the columns, so each page is cut, recursively, into
columns at its gutters (strips no line of text crosses) and into bands at
the lines that do cross one (a headline over several columns); the text is
read band by band, each band column by column.

The lines then go through the plain-text reflow, which rebuilds paragraphs
and words cut at line ends, also from the foot of one column to the head of
the next. Lines set well above the body size are headlines. Every passage
keeps the number of the page it starts on.
"""

from __future__ import annotations

import io
import re
import statistics
import unicodedata
import zlib
from dataclasses import dataclass
from itertools import pairwise

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1
from pdfminer.psexceptions import PSException
from pdfplumber.page import PDFPageAggregatorWithMarkedContent
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from indexer.document import BODY, HEADING, Article
from indexer.errors import UnsupportedFile
from indexer.punctuation import PDF_SENTENCE_END
from indexer.readers.limits import (
    MAX_PAGE_CHARS,
    MAX_PAGE_CONTENT_BYTES,
    MAX_PAGE_EXECUTED_BYTES,
    MAX_PAGE_FIGURES,
    MAX_PAGE_OPERATORS,
    MAX_PAGE_TEXT_OPERATORS,
    MAX_PAGES,
    megabytes,
)
from indexer.readers.plaintext import (
    Block,
    join_lines,
    join_wrapped,
    reflow_paragraphs,
    split_articles,
)

# Distances in ems of the page's body text.
_GUTTER = 0.8      # the narrowest gap between two columns
_INDENT = 1.5      # a line starting this far in starts a paragraph (Chinese indents 2)
_PARAGRAPH_GAP = 0.7  # extra space between lines, over the usual, that parts paragraphs
_HEADLINE = 1.3    # a line this many times the body size is a headline
# A strip crossed by at most this share of the lines still counts as a gutter:
# those few lines are headlines across the columns. (In justified text every
# full line crosses every strip of its column, so this can be generous.)
_SPANNING_SHARE = 0.34
# Columns this much wider or narrower than those before are another article.
_WIDTH_CHANGE = 0.2

# A folio: "3", "— 3 —", "第3版", "3 / 12".
_PAGE_NUMBER = re.compile(
    r"^[-—–_\s]*(?:第\s*)?\d{1,4}\s*(?:页|版)?(?:\s*/\s*\d{1,4})?[-—–_\s]*$")
_MARGIN = 0.07     # share of the page height at top and bottom where page numbers sit


@dataclass
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    space_before: bool = False  # the PDF has a space character just before it

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def wide(self) -> bool:
        return unicodedata.east_asian_width(self.text[0]) in "WF"


@dataclass
class _Row:
    """One line of text (within the region being cut), left to right."""

    chars: list[_Char]

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def top(self) -> float:
        return min(c.top for c in self.chars)

    @property
    def bottom(self) -> float:
        return max(c.bottom for c in self.chars)

    @property
    def size(self) -> float:
        return statistics.median(c.size for c in self.chars)

    def runs(self, gap: float) -> list[tuple[float, float]]:
        """The x ranges the row's ink covers, joining pieces closer than ``gap``."""
        runs: list[tuple[float, float]] = []
        for char in self.chars:
            if runs and char.x0 - runs[-1][1] < gap:
                runs[-1] = (runs[-1][0], max(runs[-1][1], char.x1))
            else:
                runs.append((char.x0, char.x1))
        return runs

    def text(self) -> str:
        out = self.chars[0].text
        for left, right in pairwise(self.chars):
            gap = right.x0 - left.x1
            em = max(left.size, right.size)
            # No space inside Chinese text however wide the justification
            # spreads it, unless the gap is a deliberate one of a full em.
            if right.space_before or gap > (1.0 if left.wide and right.wide else 0.2) * em:
                out += " "
            out += right.text
        return out


def _rows(chars: list[_Char]) -> list[_Row]:
    """Chars grouped into lines by their vertical middle, top to bottom."""
    rows: list[list[_Char]] = []
    for char in sorted(chars, key=lambda c: c.middle):
        first = rows[-1][0] if rows else None
        if first and abs(char.middle - first.middle) <= 0.35 * max(char.size, first.size):
            rows[-1].append(char)
        else:
            rows.append([char])
    return [_Row(sorted(row, key=lambda c: c.x0)) for row in rows]


def _coverage(rows: list[_Row], gap: float) -> list[tuple[float, float, int]]:
    """Pieces ``(x0, x1, lines)``: how many rows have ink in each x range."""
    events: list[tuple[float, int]] = []
    for row in rows:
        for x0, x1 in row.runs(gap):
            events += [(x0, 1), (x1, -1)]
    events.sort()
    pieces, depth = [], 0
    for (x, change), (next_x, _) in pairwise(events):
        depth += change
        if next_x > x:
            pieces.append((x, next_x, depth))
    return pieces


def _gutters(rows: list[_Row], gap: float, most: int) -> list[tuple[float, float]]:
    """X ranges at least ``gap`` wide that at most ``most`` rows cross, with
    text crossed by more rows on both sides (so not a ragged right margin)."""
    gutters: list[tuple[float, float]] = []
    start: float | None = None
    end: float | None = None
    seen_text = False
    for x0, x1, lines in _coverage(rows, gap):
        if lines > most:
            if start is not None and end is not None and end - start >= gap:
                gutters.append((start, end))
            start, seen_text = None, True
        elif seen_text:
            start = x0 if start is None else start
            end = x1
    return gutters


def _cut(chars: list[_Char], em: float, depth: int = 0) -> list[tuple[list[_Row], bool]]:
    """The text regions of (part of) a page in reading order, each as
    ``(rows, starts a new band)``."""
    rows = _rows(chars)
    gap = _GUTTER * em
    if depth > 30:  # a layout nested this deep is noise: read it line by line
        return [(rows, False)]
    gutters = _gutters(rows, gap, 0)
    if gutters:
        # Columns: a paragraph runs on from the foot of one to the head of the next.
        bounds = [(start + end) / 2 for start, end in gutters]
        columns: list[list[_Char]] = [[] for _ in range(len(bounds) + 1)]
        for char in chars:
            columns[sum(char.x0 > b for b in bounds)].append(char)
        return [region for column in columns if column
                for region in _cut(column, em, depth + 1)]
    if len(rows) >= 3:
        # No clean gutter: is there one that only a few lines (headlines) cross?
        near = _gutters(rows, gap, max(1, int(len(rows) * _SPANNING_SHARE)))
        middles = [(start + end) / 2 for start, end in near]
        spans = [any(x0 < m < x1 for x0, x1 in row.runs(gap) for m in middles) for row in rows]
        bands: list[list[_Row]] = []
        for i, row in enumerate(rows):
            if i and spans[i] == spans[i - 1]:
                bands[-1].append(row)
            else:
                bands.append([row])
        if len(bands) > 1:
            regions = []
            for number, band in enumerate(bands):
                band_regions = _cut([c for row in band for c in row.chars], em, depth + 1)
                if number:
                    band_regions[0] = (band_regions[0][0], True)
                regions += band_regions
            return regions
    return [(rows, False)]


@dataclass
class _Page:
    blocks: list[Block]
    continues: bool  # its first line carries on a paragraph from the page before


def _page_blocks(chars: list[_Char], em: float, height: float) -> _Page:
    blocks: list[Block] = []
    lines: list[str] = []
    headline: list[str] = []
    continues: bool | None = None

    def reflow() -> None:
        # The column's measure in characters (a Chinese character is one em).
        column = round(flow_width / em) if flow_width else None
        blocks.extend(reflow_paragraphs("\n".join(lines), column=column))
        lines.clear()

    def end_headline() -> None:
        if headline:
            text = join_lines(headline)
            # A lead paragraph set large ends in a full stop; a headline does not.
            blocks.append(Block(text, BODY if PDF_SENTENCE_END.search(text) else HEADING))
            headline.clear()

    flow_width = None
    for rows, starts_band in _cut(chars, em):
        # The reflow finds paragraph ends from the usual line length, so text
        # set to another measure goes through it on its own. (A short column
        # says little about its measure and stays in the flow.)
        width = max(row.chars[-1].x1 for row in rows) - min(row.x0 for row in rows)
        if len(rows) >= 4:
            if flow_width and abs(width - flow_width) > _WIDTH_CHANGE * flow_width:
                reflow()
            flow_width = width
        if starts_band:
            lines.append("")
        left = min(row.x0 for row in rows)
        usual_gap = statistics.median(
            [b.top - a.bottom for a, b in pairwise(rows)] or [0.0])
        for i, row in enumerate(rows):
            text = row.text()
            in_margin = row.bottom < height * _MARGIN or row.top > height * (1 - _MARGIN)
            if in_margin and _PAGE_NUMBER.match(text):
                continue  # the page number is kept as metadata instead
            if row.size >= _HEADLINE * em:
                if continues is None:
                    continues = False
                reflow()
                headline.append(text)
                continue
            end_headline()
            if i and row.top - rows[i - 1].bottom > usual_gap + _PARAGRAPH_GAP * em:
                lines.append("")
            indented = row.x0 - left >= _INDENT * em
            if continues is None:
                continues = not indented and not starts_band
            # Leading white space is how the reflow knows an indented line.
            lines.append(("  " if indented else "") + text)
    end_headline()
    reflow()
    return _Page(blocks, bool(continues))


def _chars(page) -> tuple[list[_Char], int]:
    """The page's visible characters, and how many had no Unicode text."""
    chars: list[_Char] = []
    unmapped = 0
    space = None
    # Fake bold is the same character printed twice a hair apart. (Not
    # pdfplumber's dedupe_chars: it takes seconds on a full newspaper page.)
    drawn: set[tuple[str, int, int]] = set()
    # Content-stream order: a space character belongs before the next
    # character drawn on its line. Spaces take no part in the layout.
    for c in page.chars:
        text = c["text"]
        key = (text, round(c["x0"]), round(c["top"]))
        if key in drawn:
            continue
        drawn.add(key)
        if text.startswith("(cid:"):
            # A glyph number: the font carries no map back to Unicode.
            unmapped += 1
        elif not text.strip():
            space = c
        elif c.get("upright", True):
            after_space = space is not None and c["x0"] >= space["x0"] \
                and abs(c["top"] - space["top"]) < c["size"] / 2
            chars.append(_Char(text, c["x0"], c["x1"], c["top"], c["bottom"], c["size"],
                               after_space))
            space = None
    return chars, unmapped


def _refusal(error: Exception, name: str) -> UnsupportedFile:
    cause = error.args[0] if error.args and isinstance(error.args[0], Exception) else error
    if isinstance(cause, PDFPasswordIncorrect):
        return UnsupportedFile(name, "the PDF is protected by a password; save an unprotected copy",
                               code="pdf_password")
    if isinstance(cause, PDFEncryptionError):
        return UnsupportedFile(name, "the PDF is encrypted in a way zhsearch cannot open",
                               code="pdf_encrypted")
    detail = " ".join(str(cause).split())[:100]
    return UnsupportedFile(name, f"damaged PDF ({detail or type(cause).__name__})",
                           code="damaged_file")


class _PageTooLarge(Exception):
    """A page that draws more than a report's page can: its reason."""


class _CountingAggregator(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, counting text operators and characters as
    the page is interpreted: pdfplumber keeps ~4 KB per character, and a
    59 KB PDF of 2 M text operators took 69 s and 5.1 GB."""

    operators = chars = 0

    def render_string(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.operators += 1
        if self.operators > MAX_PAGE_TEXT_OPERATORS:
            raise _PageTooLarge(
                f"a page with more than {MAX_PAGE_TEXT_OPERATORS:,} text operators: not a report")
        return super().render_string(*args, **kwargs)

    def render_char(self, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
        self.chars += 1
        if self.chars > MAX_PAGE_CHARS:
            raise _PageTooLarge(
                f"a page with more than {MAX_PAGE_CHARS:,} characters of text: not a report")
        return super().render_char(*args, **kwargs)

    operations = executed = figures = 0

    def begin_figure(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.figures += 1
        if self.figures > MAX_PAGE_FIGURES:
            raise _PageTooLarge(
                f"a page that draws more than {MAX_PAGE_FIGURES:,} forms or images: not a report")
        super().begin_figure(*args, **kwargs)

    def count_operator(self) -> None:
        self.operations += 1
        if self.operations > MAX_PAGE_OPERATORS:
            raise _PageTooLarge(
                f"a page with more than {MAX_PAGE_OPERATORS:,} drawing operators "
                "(nested forms counted each time they are drawn): not a report")

    def count_executed(self, size: int) -> None:
        self.executed += size
        if self.executed > MAX_PAGE_EXECUTED_BYTES:
            raise _PageTooLarge(
                f"a page whose drawing instructions, with every form counted each time it "
                f"is drawn, exceed {megabytes(MAX_PAGE_EXECUTED_BYTES)}: not a report")

    def paint_path(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Lines and shapes are never read (only characters and images are),
        # and pdfplumber keeps each (10^5 strokes drawn through 5 levels of
        # forms: 433 MB and 11 s kept, 130 MB and 7 s not).
        pass


def _counted(operator):  # type: ignore[no-untyped-def]
    """pdfminer's ``do_X`` method, counting each call on the page's device.

    Called by the interpreter's loop, it takes its operands from the stack
    itself, as ``PDFPageInterpreter.execute`` does for a method with
    arguments (the loop reads the argument count off the method, and finds
    none here); called by another operator (``'`` calls ``TJ``), it is given them.
    """
    nargs = operator.__code__.co_argcount - 1

    def counted(self: _CountingInterpreter, *given: object) -> None:
        self.device.count_operator()
        if given or not nargs:
            operator(self, *given)
            return
        args = self.pop(nargs)
        if len(args) == nargs:
            operator(self, *args)

    return counted


class _CountingInterpreter(PDFPageInterpreter):
    """pdfminer's interpreter, counting every operator it runs and every byte of
    drawing instructions, in the page's own streams and each form it draws
    (form XObjects run in a copy of this interpreter with the same device)."""

    device: _CountingAggregator

    def execute(self, streams) -> None:  # type: ignore[no-untyped-def]
        for obj in streams:
            stream = resolve1(obj)
            if isinstance(stream, PDFStream):
                # One for the call itself, so that drawing an empty form counts.
                self.device.count_executed(1 + _inflated_size(stream))
        super().execute(streams)


for _name in dir(PDFPageInterpreter):
    if _name.startswith("do_"):
        setattr(_CountingInterpreter, _name, _counted(getattr(PDFPageInterpreter, _name)))


def _streams(page) -> list[PDFStream]:
    """The page's content streams and the form XObjects it may draw."""
    streams = [resolve1(s) for s in page.page_obj.contents]
    resources = resolve1(page.page_obj.resources) or {}
    xobjects = resolve1(resources.get("XObject")) if isinstance(resources, dict) else None
    if isinstance(xobjects, dict):
        streams += [resolve1(x) for x in xobjects.values()]
    return [s for s in streams if isinstance(s, PDFStream)]


def _inflated_size(stream: PDFStream) -> int:
    """The size of a stream's data once inflated, found without inflating more
    than ``MAX_PAGE_CONTENT_BYTES + 1`` of it (1 MB of compressed spaces
    inflated to 3.2 GB at once); 0 when it cannot be told."""
    if stream.data is not None:  # already decoded
        return len(stream.data)
    filters = stream.get_filters()
    raw = stream.rawdata or b""
    if not filters:
        return len(raw)
    if len(filters) == 1 and filters[0][0] in LITERALS_FLATE_DECODE and not stream.decipher:
        try:
            return len(zlib.decompressobj().decompress(raw, MAX_PAGE_CONTENT_BYTES + 1))
        except zlib.error:
            return 0  # pdfminer has its own ways with a damaged stream
    return 0


def _check_page_size(page) -> None:
    """Refuse a page whose drawing instructions inflate past the limit, before
    pdfminer inflates them whole (1 MB of compressed spaces took 3.2 GB)."""
    total = 0
    for stream in _streams(page):
        total += _inflated_size(stream)
        if total > MAX_PAGE_CONTENT_BYTES:
            raise _PageTooLarge(f"a page whose drawing instructions inflate to more than "
                                f"{megabytes(MAX_PAGE_CONTENT_BYTES)}: not a report")


def _layout(page) -> None:
    """Interpret the page as pdfplumber would, with the counting device."""
    _check_page_size(page)
    device = _CountingAggregator(page.pdf.rsrcmgr, pageno=page.page_number,
                                 laparams=page.pdf.laparams)
    try:
        _CountingInterpreter(page.pdf.rsrcmgr, device).process_page(page.page_obj)
    except _PageTooLarge:
        raise
    except Exception as error:  # noqa: BLE001 - what pdfplumber's own layout does
        raise PdfminerException(error) from error
    page._layout = device.get_result()


def read(data: bytes, name: str) -> list[Article]:
    # pdfminer accepts almost anything as a PDF; a missing header says it is not one.
    if b"%PDF-" not in data[:1024]:
        raise UnsupportedFile(name, "not a PDF file (no %PDF header)", code="not_pdf")
    pages: list[tuple[int, _Page]] = []
    readable = unmapped = images = 0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise UnsupportedFile(
                    name, f"more than {MAX_PAGES:,} pages; split it into smaller reports",
                    code="too_many_pages")
            for page in pdf.pages:
                _layout(page)
                chars, missing = _chars(page)
                readable, unmapped = readable + len(chars), unmapped + missing
                images += len(page.images)
                if chars:
                    em = statistics.median(c.size for c in chars)
                    pages.append((page.page_number, _page_blocks(chars, em, page.height)))
                page.close()  # drop the page's parsed objects: e-papers are large
    # pdfplumber wraps most pdfminer errors; PSException (the base of all of
    # pdfminer's) is for any it lets through.
    except (PdfminerException, MalformedPDFException, PSException) as error:
        raise _refusal(error, name) from None
    except _PageTooLarge as error:
        raise UnsupportedFile(name, str(error), code="page_too_large") from None
    # Indexing the few characters that do have text (page numbers, say) would
    # pass the file off as read.
    if unmapped > readable:
        raise UnsupportedFile(
            name, "the PDF's fonts have no Unicode map, so its text cannot be read",
            code="pdf_no_unicode")
    if not pages:
        if images:
            raise UnsupportedFile(name, "scanned PDF with no text layer; zhsearch does no OCR",
                                  code="pdf_scanned")
        return []
    return _articles(pages)


def _articles(pages: list[tuple[int, _Page]]) -> list[Article]:
    """Articles over all pages, each passage marked with the page it starts on."""
    blocks: list[Block] = []
    for number, page in pages:
        page_blocks = [Block(b.text, b.kind, number) for b in page.blocks]
        # A paragraph cut by the page break: join it, on the page it starts on.
        if page.continues and page_blocks and blocks and page_blocks[0].kind == BODY \
                and blocks[-1].kind == BODY and not PDF_SENTENCE_END.search(blocks[-1].text):
            joined = join_wrapped(blocks[-1].text, page_blocks.pop(0).text)
            blocks[-1] = Block(joined, BODY, blocks[-1].page)
        blocks += page_blocks
    return split_articles(blocks)
