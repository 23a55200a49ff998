"""Plain-text reports, including text copied off a newspaper page.

Such text is hard-wrapped at the column width, often with a blank line after
every line, so words and names are cut across lines. :func:`reflow_paragraphs`
rebuilds the real paragraphs; :func:`split_articles` groups them into articles
at unit headers (``肇庆市广宁县总工会：``) and titles.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from indexer.document import BODY, BYLINE, CAPTION, HEADING, TITLE, Article, Passage
from indexer.readers.encoding import decode_text

_TERMINAL = re.compile(r"[。！？!?…]+[”’」』）)\"']*$")
_CLAUSE_END = re.compile(r"[，,、；;：:]$")
_BYLINE = re.compile(r"^[■●◆▲□]?\s*(?:(?:全媒体|本报|特约|见习)?记者|通讯员|文/|图/|文／|图／)")
_CAPTION = re.compile(r"^[■●◆▲]|(?:供图|摄|图片来源\S*)$")
_UNIT_HEADER = re.compile(
    r"^\S{2,24}(?:总工会|工会|委员会|政府|党委|局|厅|办公室|中心|公司|集团|协会|联合会|学校|大学|医院|街道|管委会|高新区|开发区)[：:]$"
)


def display_width(text: str) -> float:
    """Columns a line takes on the page: Chinese and full-width 1, ASCII ½."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of a wrapped line: no space between Chinese characters,
    one space between Latin words."""
    left, right = left.rstrip(), right.lstrip()
    if left and right and left[-1].isascii() and left[-1].isalnum() \
            and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def join_lines(pieces: list[str]) -> str:
    """Join the wrapped lines of one paragraph (see :func:`join_wrapped`).

    >>> join_lines(["第十四次代表大", "会以来 Hello", "World"])
    '第十四次代表大会以来 Hello World'
    """
    joined = ""
    for piece in pieces:
        joined = join_wrapped(joined, piece) if joined else piece.strip()
    return joined


@dataclass
class Line:
    text: str
    width: float
    glued: bool  # followed by another line with no blank line between
    indented: bool


@dataclass
class Block:
    """A rebuilt paragraph, or a heading, byline, caption or unit header."""

    text: str
    kind: str  # body | heading | byline | caption | unit
    page: int | None = None  # where a paged format (PDF) has it


def _column_width(lines: list[Line]) -> float | None:
    """The width most lines are wrapped at, or None when the text is not wrapped."""
    widths = Counter(round(line.width) for line in lines)
    if len(lines) < 4 or not widths:
        return None
    width, _ = widths.most_common(1)[0]
    near = sum(n for w, n in widths.items() if abs(w - width) <= 1)
    return float(width) if near >= 0.4 * len(lines) and width >= 8 else None


def _special_kind(text: str) -> str | None:
    if _BYLINE.match(text):
        return BYLINE
    if _CAPTION.search(text):
        return CAPTION
    if _UNIT_HEADER.match(text):
        return "unit"
    return None


def reflow_paragraphs(text: str, column: float | None = None) -> list[Block]:
    """Rebuild paragraphs from hard-wrapped lines.

    A wrapped line joins the next one unless it ends a sentence short of the
    column; headings (short lines without end punctuation, or lines glued to
    the next in double-spaced text), bylines, captions and unit headers stand
    alone.

    >>> text = "第十四次代表大\\n\\n会以来，工作取\\n\\n得成效。\\n\\n下一段。"
    >>> [b.text for b in reflow_paragraphs(text, column=7)]
    ['第十四次代表大会以来，工作取得成效。', '下一段。']
    """
    raw = text.split("\n")
    lines: list[Line] = []
    blanks_after = 0
    for i, line in enumerate(raw):
        if not line.strip():
            continue
        glued = i + 1 < len(raw) and bool(raw[i + 1].strip())
        blanks_after += not glued
        stripped = line.strip()
        lines.append(Line(stripped, display_width(stripped), glued, line[:1].isspace()))
    if not lines:
        return []
    # Text with a blank line after (almost) every line: the blank lines are
    # line spacing, not paragraph breaks.
    double_spaced = len(lines) >= 4 and blanks_after >= 0.6 * len(lines)
    # A caller that knows the measure (a PDF column) says so: a few lines
    # alone do not show it.
    column = column or _column_width(lines)
    heading_width = column * 0.7 if column else 20.0

    blocks: list[Block] = []
    current: list[str] = []

    def close_paragraph() -> None:
        if current:
            blocks.append(Block(join_lines(current), BODY))
            current.clear()

    def looks_like_heading(i: int) -> bool:
        line = lines[i]
        if _TERMINAL.search(line.text) or _CLAUSE_END.search(line.text):
            return False
        glued_to_next = double_spaced and line.glued and i + 1 < len(lines)
        return line.width <= heading_width or glued_to_next

    for i, line in enumerate(lines):
        special = _special_kind(line.text)
        if current:
            prev = lines[i - 1]
            paragraph_goes_on = (
                column is not None
                and (double_spaced or prev.glued)
                and not line.indented
                and (not _TERMINAL.search(prev.text) or prev.width >= column - 1)
                and special is None
                and not looks_like_heading(i)
            )
            if paragraph_goes_on:
                current.append(line.text)
                continue
            close_paragraph()
        if special:
            blocks.append(Block(line.text, special))
        elif looks_like_heading(i):
            blocks.append(Block(line.text, HEADING))
        else:
            current.append(line.text)
    close_paragraph()
    return blocks


def split_articles(blocks: list[Block]) -> list[Article]:
    """Group blocks into articles.

    A unit header starts a new article once the current one has body text;
    headings before an article's first body paragraph make its title, later
    ones its section headings (consecutive heading lines form one heading).
    Titles and headings stay searchable as passages of their own.
    """
    articles: list[Article] = []
    units: list[str] = []
    headlines: list[str] = []
    section = ""
    last_kind = None

    def start_article() -> Article:
        units.clear()
        headlines.clear()
        articles.append(Article())
        return articles[-1]

    article = start_article()
    for block in blocks:
        if block.kind == "unit" and article.has_body():
            article = start_article()
            section = ""
        if block.kind == "unit" or (block.kind == HEADING and not article.has_body()):
            (units if block.kind == "unit" else headlines).append(block.text.rstrip("：:"))
            unit = " ".join(units)
            headline = " ".join(headlines)
            article.title = f"{unit}：{headline}" if unit and headline else unit or headline
            article.passages.append(Passage(block.text, TITLE, page=block.page))
        elif block.kind == HEADING:
            section = f"{section} {block.text}" if last_kind == HEADING else block.text
            article.passages.append(Passage(block.text, HEADING, section, block.page))
        else:
            if block.kind == BYLINE:
                article.byline = block.text.lstrip("■●◆▲□ ")
            article.passages.append(Passage(block.text, block.kind, section, block.page))
        last_kind = block.kind
    return [a for a in articles if a.passages]


def read(data: bytes, name: str) -> list[Article]:
    return split_articles(reflow_paragraphs(decode_text(data, name)))
