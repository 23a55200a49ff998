"""A search request, typed and validated once: what ``zhsearch search`` and
``export``, the result page, the API and the export link all ask the engine.

The command line builds it from its options (one shared decorator), the web
from the query string; :meth:`SearchRequest.of` reads the loose values both
have (strings, ``None``) and refuses a bad one with a named error
(:class:`~indexer.errors.QueryError`, a stable code), before any index is
opened.

>>> SearchRequest.of("劳模", group="article", fold=None).group
<Group.ARTICLE: 'article'>
>>> SearchRequest.of("劳模", sort="newest")
Traceback (most recent call last):
indexer.errors.QueryError: sort must be 'relevance' or 'date'
>>> SearchRequest.of("劳模", date_from="2023-06-01", date_to="2023-05-01")
Traceback (most recent call last):
indexer.errors.QueryError: --from 2023-06-01 is after --to 2023-05-01
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from indexer.errors import QueryError


# The order of the hits.
Sort = StrEnum("Sort", [("RELEVANCE", "relevance"), ("DATE", "date")])
# Every matching passage, or one per article (its best, the rest counted).
Group = StrEnum("Group", [("PASSAGE", "passage"), ("ARTICLE", "article")])
# Every copy of a story, or the same story once (``same``).
Fold = StrEnum("Fold", [("NONE", "none"), ("SAME", "same")])
# Where the words must stand: anywhere, or in article titles only (the ``in`` option).
Scope = StrEnum("Scope", [("ALL", "all"), ("TITLE", "title")])

# Each enum's refusal: its code and the English a person reads.
_BAD = {Sort: ("bad_sort", "sort must be 'relevance' or 'date'"),
        Group: ("bad_group", "group must be 'article' or none"),
        Fold: ("bad_fold", "fold must be 'same' or none"),
        Scope: ("bad_scope", "in must be 'all' or 'title'")}
_E = TypeVar("_E", bound=StrEnum)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_date(value: str | None, name: str) -> str | None:
    """A ``YYYY-MM-DD`` date filter as given, or None when empty.

    >>> check_date("2023-05-15", "--from")
    '2023-05-15'
    >>> check_date("2023-13-01", "--from")
    Traceback (most recent call last):
    indexer.errors.QueryError: --from 2023-13-01 is not a date; write it as YYYY-MM-DD, e.g. 2023-05-15
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        datetime.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value} is not a date; write it as YYYY-MM-DD, e.g. 2023-05-15",
                         code="bad_date", value=value) from None
    return value


def _member(enum: type[_E], value: object) -> _E:
    """``value`` as a member of ``enum``; its named refusal otherwise."""
    try:
        return enum(str(value))
    except ValueError:
        code, message = _BAD[enum]
        raise QueryError(message, code=code, value=str(value)) from None


@dataclass(frozen=True)
class SearchRequest:
    """One search: the query text, the page, and the filters and arrangement.

    ``limit=0`` asks for every hit on one page. Built directly or by
    :meth:`of`, it is checked when made: a request that exists can be run.
    """

    text: str
    page: int = 1
    limit: int = 10
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: Sort = Sort.RELEVANCE
    group: Group = Group.PASSAGE
    scope: Scope = Scope.ALL
    fold: Fold = Fold.NONE

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise QueryError("the query is empty", code="empty_query")
        if self.page < 1:
            raise QueryError("page must be 1 or more", code="bad_page")
        if self.limit < 0:
            raise QueryError("limit must be 0 (all) or more", code="bad_limit")
        for field, enum in (("sort", Sort), ("group", Group), ("fold", Fold), ("scope", Scope)):
            object.__setattr__(self, field, _member(enum, getattr(self, field)))
        date_from = check_date(self.date_from, "--from")
        date_to = check_date(self.date_to, "--to")
        if date_from and date_to and date_from > date_to:
            raise QueryError(f"--from {date_from} is after --to {date_to}", code="bad_date_range")
        object.__setattr__(self, "date_from", date_from)
        object.__setattr__(self, "date_to", date_to)
        object.__setattr__(self, "source", self.source or None)

    @classmethod
    def of(cls, text: str, page: int = 1, limit: int = 10, *, source: str | None = None,
           date_from: str | None = None, date_to: str | None = None,
           sort: str | None = Sort.RELEVANCE, group: str | None = None,
           scope: str | None = Scope.ALL, fold: str | None = None) -> SearchRequest:
        """A request from loose values: ``None`` or ``""`` for a default
        (ungrouped, unfolded, by relevance, everywhere), names as strings.
        Raises :class:`QueryError` with the value's code when one is wrong."""
        return cls(text, page, limit, source=source, date_from=date_from, date_to=date_to,
                   sort=_member(Sort, sort or Sort.RELEVANCE),
                   group=_member(Group, group or Group.PASSAGE),
                   scope=_member(Scope, scope or Scope.ALL),
                   fold=_member(Fold, fold or Fold.NONE))

    def replace(self, **changes: object) -> SearchRequest:
        """The same request with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def grouped(self) -> str | None:
        """``"article"`` when grouped, else None: the JSON's ``grouped``."""
        return None if self.group is Group.PASSAGE else self.group.value

    @property
    def folded(self) -> str | None:
        """``"same"`` when folded, else None: the JSON's ``folded``."""
        return None if self.fold is Fold.NONE else self.fold.value
