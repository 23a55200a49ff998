"""What the equivalence tests compare the array evaluation with Whoosh's
through: code that only the tests need, moved out of the engine (issue 20).

- :class:`WhooshService`: a SearchService that never reads the arrays, so
  every query runs through Whoosh's own matchers, the reference (with
  :mod:`indexer.exclusion`'s matcher for exclusions, as the engine's own);
- :func:`search` and :class:`Ranked`: the raw top k and exact total of a
  query tree over the arrays, with the raw BM25 scores, before any
  arranging;
- :func:`results`: a compiled query's raw ranking by either evaluation, as
  Whoosh ``Results`` or :class:`ArrayResults` (the same interface).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from indexer import evaluate
from indexer.arrange import _top
from indexer.evaluate import IndexArrays
from indexer.query import CompiledQuery
from indexer.search import SearchService, _run


class WhooshService(SearchService):
    """Searches through Whoosh's own evaluation only: the reference the
    array evaluation is compared with."""

    def _arrays(self, searcher: Searcher) -> IndexArrays | None:
        return None


@dataclass
class Ranked:
    """The outcome of a search: how many documents match, and the first of them."""

    total: int
    docnums: list[int]            # global document numbers, best first
    scores: list[float] | None    # None when sorted by date (Whoosh scores nothing then)
    facets: dict[str, dict[str, int]] | None = None  # counts over every match, by year and source
    more: list[int] | None = None  # grouped by article: the other matches of each hit's article


def search(index: IndexArrays, query: wq.Query, limit: int, by_date: bool = False) -> Ranked:
    """The ``limit`` best documents (and the exact total), as Whoosh ranks them."""
    parts = index._matches(query, scored=not by_date)
    total = sum(len(docs) for _, docs, _ in parts)
    if total == 0 or limit <= 0:
        return Ranked(total, [], None if by_date else [])
    docnums = np.concatenate([leaf.offset + docs.astype(np.int64) for leaf, docs, _ in parts])
    if by_date:
        index._date_ranks()
        key = np.concatenate([leaf.date_rank[docs] for leaf, docs, _ in parts]).astype(np.float64)
    else:
        key = np.concatenate([scores for _, _, scores in parts])
    chosen = _top(key, docnums, limit)
    return Ranked(total, docnums[chosen].tolist(),
                  None if by_date else key[chosen].tolist())


def results(service: SearchService, searcher: Searcher, compiled: CompiledQuery, page: int,
            limit: int, sort: str, source: str | None, date_from: str | None, date_to: str | None):
    """The raw ranking of a compiled query (Whoosh ``Results`` or the arrays'
    equivalent), or None when it has no query: what the tests compare."""
    query = service._query(compiled, source, date_from, date_to)
    if query is None:
        return None
    doc_count = max(searcher.doc_count(), 1)
    wanted = doc_count if limit == 0 else min(page * limit, doc_count)
    arrays = service._arrays(searcher)
    if arrays is not None:
        try:
            return ArrayResults(searcher, search(arrays, query, wanted, sort == "date"))
        except evaluate.Unsupported:
            pass
    return _run(searcher, query, wanted, sort == "date")


class _Hit:
    """What SearchService reads of a Whoosh hit: its stored fields and score."""

    __slots__ = ("_searcher", "docnum", "score", "_fields")

    def __init__(self, searcher, docnum: int, score: float | None):
        self._searcher = searcher
        self.docnum = docnum
        self.score = score
        self._fields: dict | None = None

    def fields(self) -> dict:
        if self._fields is None:
            self._fields = self._searcher.stored_fields(self.docnum)
        return self._fields

    def __getitem__(self, fieldname: str):
        return self.fields()[fieldname]


class ArrayResults:
    """A :class:`Ranked` seen as Whoosh ``Results``: ``len()`` is the total,
    iterating gives the ranked hits."""

    def __init__(self, searcher, ranked: Ranked):
        self.ranked = ranked
        self._searcher = searcher

    def __len__(self) -> int:
        return self.ranked.total

    def __iter__(self):
        scores = self.ranked.scores or [None] * len(self.ranked.docnums)
        for docnum, score in zip(self.ranked.docnums, scores):
            yield _Hit(self._searcher, docnum, score)
