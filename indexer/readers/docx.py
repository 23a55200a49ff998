"""Word ``.docx`` reports: the author's paragraphs, headings and tables.

Each paragraph is one passage, as the author wrote it; nothing is reflowed.
Headings come from the Word heading styles (also custom styles based on
them, and an outline level set by hand): the shallowest heading level used
in the document starts an article, deeper ones are its section headings, and
the ``Title`` style names the opening article. Table rows become passages of
their own, cells separated by `` | ``; a table with one cell a row is only
a frame around paragraphs and is read like the body.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from indexer.document import Article
from indexer.errors import UnsupportedFile
from indexer.readers.limits import (
    MAX_DECOMPRESSED_BYTES,
    MAX_DOCX_PIECES,
    MAX_PARAGRAPHS,
    megabytes,
)
from indexer.readers.outline import Part, group_articles
from indexer.readers.plaintext import join_lines

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .doc (and .xls, …)
_CELL_SEPARATOR = " | "


def clean_text(text: str) -> str:
    """Collapse a paragraph's line breaks and tabs the way wrapped text is joined."""
    pieces = [piece.strip() for piece in text.replace("\t", " ").split("\n")]
    return " ".join(join_lines([p for p in pieces if p]).split())


def _outline_level(element) -> int | None:
    # w:outlineLvl 0-8 is heading 1-9; 9 means body text.
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    if values and values[0].isdigit() and int(values[0]) < 9:
        return int(values[0]) + 1
    return None


def _heading_level(paragraph: Paragraph) -> int | None:
    level = _outline_level(paragraph._p)
    if level is not None:
        return level
    style = paragraph.style
    seen = 0
    # A custom style based on "Heading 2" is a level-2 heading too; the chain
    # is bounded in case a damaged file makes it circular.
    while style is not None and seen < 10:
        name = (style.name or "").strip()
        if name.lower() in _TITLE_STYLES:
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        level = _outline_level(style.element)
        if level is not None:
            return level
        style, seen = style.base_style, seen + 1
    return None


def _cell_text(cell) -> str:
    texts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            texts.extend(_row_text(row) for row in item.rows)
        else:
            texts.append(clean_text(item.text))
    return " ".join(t for t in texts if t)


def _unique_cells(row) -> list:
    # A merged cell is returned once for every grid column it spans.
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _row_text(row) -> str:
    return _CELL_SEPARATOR.join(t for t in map(_cell_text, _unique_cells(row)) if t)


def _table_parts(table: Table) -> list[Part]:
    rows = [_unique_cells(row) for row in table.rows]
    texts = [[_cell_text(cell) for cell in cells] for cells in rows]
    if all(sum(1 for text in row if text) <= 1 for row in texts):
        # One cell a row: a frame or text box drawn as a table. Its content
        # keeps its paragraphs and headings.
        return [part for cells, row in zip(rows, texts) for cell, text in zip(cells, row)
                if text for part in _parts(cell.iter_inner_content())]
    # A real table: one passage per row keeps each cell next to its row's others.
    return [Part(_CELL_SEPARATOR.join(t for t in row if t)) for row in texts if any(row)]


def _parts(items) -> list[Part]:
    parts: list[Part] = []
    for item in items:
        if isinstance(item, Table):
            parts.extend(_table_parts(item))
        else:
            text = clean_text(item.text)
            if text:
                parts.append(Part(text, _heading_level(item)))
    return parts


# A paragraph element, whatever the namespace prefix: <w:p> or <w:p ...>.
_PARAGRAPH_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s>/]")
# A run or a piece of its text: what python-docx builds an object for.
_PIECE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:r|t|tab|br|cr)[\s>/]")
_MAX_PARTS = 10_000


def check_package(data: bytes, name: str) -> None:
    """Refuse a zip whose parts inflate past the limit, or whose body has more
    paragraphs or runs than any report, before python-docx reads it all into memory.

    The parts are inflated in 1 MB pieces and counted as they come: a 1 MB
    docx of compressed spaces inflated to 3.4 GB at once.
    """
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        return  # python-docx says what is wrong with it
    if len(members) > _MAX_PARTS:
        raise UnsupportedFile(name, f"more than {_MAX_PARTS:,} parts in the .docx zip",
                              code="too_many_parts")
    total = paragraphs = pieces = 0
    for member in members:
        body = member.filename == "word/document.xml"
        carry = b""
        try:
            with package.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_DECOMPRESSED_BYTES:
                        raise UnsupportedFile(
                            name, f"its parts inflate to more than "
                                  f"{megabytes(MAX_DECOMPRESSED_BYTES)}: not a report",
                            code="inflates_too_much")
                    if body:
                        # A tag cut between two pieces is counted in the next.
                        text = carry + chunk
                        paragraphs += sum(1 for m in _PARAGRAPH_TAG.finditer(text)
                                          if m.start() < len(text) - 32)
                        pieces += sum(1 for m in _PIECE_TAG.finditer(text)
                                      if m.start() < len(text) - 32)
                        carry = text[-32:]
                        if paragraphs > MAX_PARAGRAPHS:
                            raise UnsupportedFile(
                                name, f"more than {MAX_PARAGRAPHS:,} paragraphs: "
                                      "split it into smaller reports", code="too_many_paragraphs")
                        if pieces > MAX_DOCX_PIECES:
                            raise UnsupportedFile(
                                name, f"more than {MAX_DOCX_PIECES:,} runs and pieces of text: "
                                      "not a report", code="too_many_runs")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            return  # damaged, encrypted or compressed oddly: python-docx refuses it
        if body:
            paragraphs += len(_PARAGRAPH_TAG.findall(carry))


def read(data: bytes, name: str) -> list[Article]:
    if data.startswith(_OLE_SIGNATURE):
        raise UnsupportedFile(name, "an old binary Word .doc file; save it as .docx",
                              code="old_word")
    check_package(data, name)
    try:
        # python-docx reads and parses every part here, so this is where a
        # damaged file fails.
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise UnsupportedFile(name, "damaged .docx: not a complete zip archive",
                              code="damaged_docx") from None
    except (KeyError, PackageNotFoundError):
        raise UnsupportedFile(
            name, "not a Word document: the zip holds no Word document parts",
            code="not_word") from None
    except SyntaxError as error:  # lxml's XMLSyntaxError is a SyntaxError
        raise UnsupportedFile(name, f"damaged .docx: broken XML ({error.msg})",
                              code="damaged_docx") from None
    except ValueError:  # python-docx: "… is not a Word file, content type is …"
        raise UnsupportedFile(name, "not a Word document (another kind of Office file?)",
                              code="not_word") from None
    return group_articles(_parts(document.iter_inner_content()))
