"""Reading search parameters from a query string, shared by the page and the API."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort
from werkzeug.datastructures import MultiDict

from indexer.messages import ZH
from indexer.request import Fold, Group, SearchRequest, Sort, Scope

@dataclass(frozen=True)
class Filters:
    """The narrowing and ordering a search can have besides its words."""

    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    # As given (a page links them back); judged by SearchRequest.
    sort: str = Sort.RELEVANCE
    scope: str = Scope.ALL  # the `in` parameter: all, or title
    group: str = Group.PASSAGE  # the `group` parameter: passage, or article
    group_default: str = Group.PASSAGE  # what the page shows without the parameter
    fold: str = Fold.NONE  # the `fold` parameter: none, or same (the same story once)
    fold_default: str = Fold.NONE

    def request(self, q: str, page: int = 1, limit: int = 10) -> SearchRequest:
        """The engine's request for ``q`` under these filters; a bad value
        raises :class:`~indexer.errors.QueryError` (a 400 page, JSON under /api/)."""
        return SearchRequest.of(q, page, limit, source=self.source, date_from=self.date_from,
                                date_to=self.date_to, sort=self.sort, group=self.group,
                                scope=self.scope, fold=self.fold)

    def url_args(self, **override: str | None) -> dict[str, str]:
        """The query-string form, only what differs from the defaults; ``override``
        replaces single parameters (a facet's link)."""
        args = {"source": self.source, "from": self.date_from, "to": self.date_to,
                "sort": self.sort if self.sort != "relevance" else None,
                "in": self.scope if self.scope != "all" else None,
                "group": self.group if self.group != self.group_default else None,
                "fold": self.fold if self.fold != self.fold_default else None}
        args.update(override)
        return {k: v for k, v in args.items() if v}

    @property
    def narrowing(self) -> bool:
        return bool(self.source or self.date_from or self.date_to)


def parse_filters(args: MultiDict, group_default: str = Group.PASSAGE,
                  fold_default: str = Fold.NONE) -> Filters:
    """Filters from ``source``, ``from``, ``to``, ``sort``, ``in``, ``group`` and ``fold``, as given.

    :meth:`Filters.request` judges them (``QueryError``, a 400 page): one
    rule for the page, the API and the command line.
    """
    return Filters(source=args.get("source", "").strip() or None,
                   date_from=args.get("from", "").strip() or None,
                   date_to=args.get("to", "").strip() or None,
                   sort=args.get("sort", "").strip() or "relevance",
                   scope=args.get("in", "").strip() or "all",
                   group=args.get("group", "").strip() or group_default,
                   group_default=group_default,
                   fold=args.get("fold", "").strip() or fold_default,
                   fold_default=fold_default)


def int_arg(args: MultiDict, name: str, default: int, minimum: int) -> int:
    """An integer parameter of at least ``minimum``; 400 otherwise."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:  # also a string of thousands of digits
        abort(400, ZH.text("not_an_integer", name=name))
    if value < minimum:
        abort(400, ZH.text("below_minimum", name=name, minimum=minimum))
    return value


def required_q(args: MultiDict) -> str:
    """The ``q`` parameter of the API, the explanation and the export; 400 when empty."""
    q = args.get("q", "")
    if not q.strip():
        abort(400, ZH.text("missing_q"))
    return q


def lenient_page(args: MultiDict) -> int:
    """The page of a result page: anything unusable means the first page."""
    try:
        return max(1, int(args.get("page", "1")))
    except ValueError:
        return 1


@dataclass(frozen=True)
class Pager:
    """Page numbers around the current page, the way Baidu shows them."""

    page: int
    total: int
    per_page: int
    window: int = 10

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return 1 < self.page <= self.pages

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def numbers(self) -> range:
        last = self.pages
        start = max(1, min(self.page - self.window // 2, last - self.window + 1))
        return range(start, min(last, start + self.window - 1) + 1)
