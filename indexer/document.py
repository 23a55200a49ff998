"""What a reader makes of a report file: articles made of passages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The kinds of passage; all are indexed, only "body" is plain article text.
TITLE, HEADING, BODY, CAPTION, BYLINE = "title", "heading", "body", "caption", "byline"


@dataclass
class Passage:
    text: str
    kind: str = BODY
    section: str = ""
    page: int | None = None


@dataclass
class Article:
    title: str = ""
    passages: list[Passage] = field(default_factory=list)
    byline: str = ""

    def has_body(self) -> bool:
        return any(p.kind == BODY for p in self.passages)


_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d\d|19\d\d)[-_.]?([01]\d)[-_.]?([0-3]\d)(?!\d)")
_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(20\d\d|19\d\d)\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|[-/.](\d{1,2})[-/.](\d{1,2})(?!\d))"
)


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
    """The first date written in ``text`` (``2023年5月15日``, ``2023-05-15``)."""
    match = _DATE_IN_TEXT.search(text)
    if not match:
        return None
    year, m1, d1, m2, d2 = match.groups()
    return _iso_date(year, m1 or m2, d1 or d2)
