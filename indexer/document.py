"""What a reader makes of a report file: articles made of passages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """The kind of a passage; all are indexed, only ``body`` is plain article text.

    The values are what the index stores and the JSON's ``kind`` says: a
    member is its string (``Kind.TITLE == "title"``), so an index built
    before reads the same and the JSON is unchanged.

    >>> Kind("heading") is Kind.HEADING, f"{Kind.BODY}", Kind.TITLE == "title"
    (True, 'body', True)
    """

    TITLE = "title"
    HEADING = "heading"
    BODY = "body"
    CAPTION = "caption"
    BYLINE = "byline"
    # A line of a digest that repeats another article's headline
    # (indexer/readers/articles.py): it points at that story.
    DIGEST = "digest"


# The passages that may head an article, above its text: the article page
# shows its first titles and bylines as its header.
HEADER_KINDS = frozenset({Kind.TITLE, Kind.BYLINE})

# The short names the readers import: the same members.
TITLE, HEADING, BODY, CAPTION, BYLINE, DIGEST = (
    Kind.TITLE, Kind.HEADING, Kind.BODY, Kind.CAPTION, Kind.BYLINE, Kind.DIGEST)


@dataclass
class Passage:
    text: str
    kind: Kind = Kind.BODY
    section: str = ""
    page: int | None = None


@dataclass
class Article:
    title: str = ""
    passages: list[Passage] = field(default_factory=list)
    byline: str = ""
    date: str | None = None  # ISO date from a date line of its own, if it has one

    def has_body(self) -> bool:
        return any(p.kind == BODY for p in self.passages)


_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d\d|19\d\d)[-_.]?([01]\d)[-_.]?([0-3]\d)(?!\d)")
_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(20\d\d|19\d\d)\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|[-/.](\d{1,2})[-/.](\d{1,2})(?!\d))"
)
# 二〇二三年五月十日
_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_DATE_IN_WORDS = re.compile(
    "([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日")


def _number(words: str) -> str:
    """``二十三`` -> ``23``, ``二〇二三`` -> ``2023``."""
    if "十" not in words:
        return "".join(str(_DIGITS[c]) for c in words)
    tens, _, units = words.partition("十")
    return str((_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0))


def _iso_date(year: str, month: str, day: str) -> str | None:
    y, m, d = int(year), int(month), int(day)
    if 1 <= m <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def date_from_name(name: str) -> str | None:
    """``20230515.md`` -> ``2023-05-15``."""
    match = _DATE_IN_NAME.search(name)
    return _iso_date(*match.groups()) if match else None


def date_from_text(text: str) -> str | None:
    """The first date written in ``text`` (``2023年5月15日``, ``2023-05-15``).

    >>> date_from_text("二〇二三年五月十日")
    '2023-05-10'
    """
    match = _DATE_IN_TEXT.search(text)
    if not match:
        words = _DATE_IN_WORDS.search(text)
        return _iso_date(*map(_number, words.groups())) if words else None
    year, m1, d1, m2, d2 = match.groups()
    return _iso_date(year, m1 or m2, d1 or d2)
