"""Arranging matches: ranking (BM25 with the title as evidence,
:mod:`indexer.relevance`), the top k, grouping by article, folding copies of
one story, and facet counts by year and source. One implementation for
both evaluations: the arrays' (:mod:`indexer.evaluate`) and Whoosh's
(``indexer.search._whoosh_arranger``) hand it the same columns.
"""

from __future__ import annotations

import numpy as np

from indexer.document import BYLINE, DIGEST, HEADING, TITLE
from indexer.relevance import TITLE_WEIGHT, relevance


# Passages that open an article or a section, and digest lines: a few words
# each, their own scores weigh less (indexer/relevance.py).
LEAD_KINDS = frozenset({TITLE, HEADING, BYLINE, DIGEST})
UNDATED = "undated"  # the year facet of passages without a date


def year_of(date: str | None) -> str:
    return date[:4] if date else UNDATED


class Arranger:
    """Ranking, grouping by article, folding copies of one story and facet
    counts over every match, one implementation for both evaluations. Each
    match has its document number, key (score, or date rank), whether it is
    a lead passage and whether an article title, numbers for its article,
    year and source (``years``/``sources`` name them) and its story
    fingerprint (0: none).

    >>> a = Arranger([0, 1, 2, 3], [1.0, 5.0, 3.0, 2.0], lead=[False, True, False, False],
    ...              article=[7, 7, 8, 9], year=[0, 0, 0, 0], source=[0, 0, 0, 1],
    ...              years=["2023"], sources=["a.txt", "b.txt"])
    >>> a.order(scored=True).tolist()         # the heading's 5.0 weighs 1.5: after the body
    [2, 3, 1, 0]
    >>> a.grouped(a.order(scored=True))       # best passage per article, others counted
    ([2, 3, 1], [0, 0, 1])

    Match 1 as the title of article 7 lifts every passage of the article by
    twice its score (``TITLE_WEIGHT``):

    >>> t = Arranger([0, 1, 2, 3], [1.0, 5.0, 3.0, 2.0], lead=[False, True, False, False],
    ...              article=[7, 7, 8, 9], year=[0, 0, 0, 0], source=[0, 0, 0, 1],
    ...              years=["2023"], sources=["a.txt", "b.txt"], title=[False, True, False, False])
    >>> t.order(scored=True).tolist(), t.relevance().tolist()
    ([1, 0, 2, 3], [11.0, 15.0, 3.0, 2.0])
    >>> a.facets()
    {'year': {'2023': 4}, 'source': {'a.txt': 3, 'b.txt': 1}}

    Matches 2 and 3 carry one story (fingerprint 5) in two reports: 3 folds into 2.

    >>> a.fingerprint = np.array([0, 0, 5, 5])
    >>> kept, copies = a.folded(a.order(scored=True))
    >>> kept.tolist(), copies
    ([0, 2, 3], {2: [3]})
    """

    def __init__(self, docnums, keys, *, lead, article, year, source,
                 years: list[str], sources: list[str], fingerprint=None, title=None):
        self.docnums = np.asarray(docnums, dtype=np.int64)
        self.keys = np.asarray(keys, dtype=np.float64)
        self.lead = np.asarray(lead, dtype=bool)
        self.title = (np.zeros(len(self.docnums), dtype=bool) if title is None
                      else np.asarray(title, dtype=bool))
        self._relevance: tuple[float, np.ndarray] | None = None
        self.article = np.asarray(article, dtype=np.int64)
        self.year = np.asarray(year, dtype=np.int64)
        self.source = np.asarray(source, dtype=np.int64)
        self.fingerprint = (np.zeros(len(self.docnums), dtype=np.int64) if fingerprint is None
                            else np.asarray(fingerprint, dtype=np.int64))
        self.years, self.sources = years, sources

    def __len__(self) -> int:
        return len(self.docnums)

    def without_articles(self, other: Arranger) -> Arranger | None:
        """These matches less every one whose article has a match in
        ``other`` (numbered the same way); None when none is left."""
        keep = ~np.isin(self.article, other.article[other.article >= 0])
        if keep.all():
            return self
        if not keep.any():
            return None
        return Arranger(self.docnums[keep], self.keys[keep], lead=self.lead[keep],
                        title=self.title[keep], article=self.article[keep], year=self.year[keep],
                        source=self.source[keep], years=self.years, sources=self.sources,
                        fingerprint=self.fingerprint[keep])

    def relevance(self, title_weight: float = TITLE_WEIGHT) -> np.ndarray:
        """Each match's rank key when scored: its BM25 key with its
        article's title as evidence (:func:`indexer.relevance.relevance`)."""
        if self._relevance is None or self._relevance[0] != title_weight:
            self._relevance = (title_weight, relevance(
                self.keys, lead=self.lead, title=self.title, article=self.article,
                title_weight=title_weight))
        return self._relevance[1]

    def order(self, scored: bool, limit: int | None = None,
              title_weight: float = TITLE_WEIGHT) -> np.ndarray:
        """Indices of the ``limit`` best matches (all when None), best first;
        ties in document order. ``scored``: by relevance, else by the keys
        as given (date ranks)."""
        keys = self.relevance(title_weight) if scored else self.keys
        if limit is not None and limit < len(keys):
            return _top(keys, self.docnums, limit)
        return np.lexsort((self.docnums, -keys))

    def grouped(self, order: np.ndarray) -> tuple[list[int], list[int]]:
        """The first (best) match of each article in ``order``, and how many
        other matches each of those articles has."""
        _, first, counts = np.unique(self.article[order], return_index=True, return_counts=True)
        by_rank = np.argsort(first, kind="stable")
        return order[first[by_rank]].tolist(), (counts[by_rank] - 1).tolist()

    def folded(self, picks: np.ndarray | list[int]) -> tuple[np.ndarray, dict[int, list[int]]]:
        """The same story once: among ``picks`` (matches, best first), a match
        carrying the story (non-zero fingerprint) of a better one from another
        source folds into the best one. Returns the positions in ``picks``
        that stay, and the matches folded into each staying match that has
        any, best first. Copies within the best one's own source stay: the
        same text twice in one report is that report's own business."""
        picks = np.asarray(picks, dtype=np.int64)
        if not len(picks):
            return picks, {}
        story = self.fingerprint[picks]
        _, first, inverse = np.unique(story, return_index=True, return_inverse=True)
        best = first[inverse.reshape(-1)]  # the position of each one's best copy
        source = self.source[picks]
        gone = (story != 0) & (source != source[best])
        at = np.flatnonzero(gone)
        copies: dict[int, list[int]] = {}
        if len(at):
            owners = best[at]
            by_owner = np.argsort(owners, kind="stable")  # each owner's copies stay best first
            owners, at = owners[by_owner], at[by_owner]
            cuts = np.flatnonzero(owners[1:] != owners[:-1]) + 1
            for owner, chunk in zip(owners[np.r_[0, cuts]].tolist(), np.split(picks[at], cuts)):
                copies[int(picks[owner])] = chunk.tolist()
        return np.flatnonzero(~gone), copies

    def facets(self, chosen: np.ndarray | list[int] | None = None) -> dict[str, dict[str, int]]:
        """Counts by year and by source over every match (or the ``chosen`` ones)."""
        picked = slice(None) if chosen is None else np.asarray(chosen, dtype=np.int64)
        return {"year": _counts(self.year[picked], self.years),
                "source": _counts(self.source[picked], self.sources)}


def _counts(ids: np.ndarray, names: list[str]) -> dict[str, int]:
    counts = np.bincount(ids, minlength=len(names)) if len(ids) else np.zeros(len(names), int)
    # Only the values that occur are sorted: np.argsort(names) made an array
    # of all 365 source names for every query (0.1 ms of a 2.5 ms search).
    found = np.flatnonzero(counts).tolist()
    return {names[i]: int(counts[i]) for i in sorted(found, key=names.__getitem__)}


def _top(key: np.ndarray, docnums: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest keys, ties in ascending document order."""
    n = len(key)
    if k < n:
        kth = np.partition(-key, k - 1)[k - 1]
        candidates = np.flatnonzero(-key <= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((docnums[candidates], -key[candidates]))
    return candidates[order[:k]]
