"""Phrase adjacency: the documents where one word of each step stands at
consecutive positions. One rule for both evaluations: the array walk
(:mod:`indexer.evaluate`, ``Phrase`` and ``AdjacentWords`` over a segment's
arrays) and Whoosh's (:class:`indexer.docsets.AdjacentWords`, over a
reader's postings). They differ only in where the positions come from.

Each occurrence of a word of step ``j`` at position ``p`` in document ``d``
becomes the key ``(d << 32) + p - j``: the occurrences of a phrase that
starts at ``p`` share one key across all its steps, so the phrase matches
where a key is found in every step — an intersection of sorted integers, no
Python step per document or position.

>>> keys = [position_keys(np.array([0, 0, 3]), np.array([4, 9, 1]), 0),   # 劳 in 0 at 4, 9; in 3 at 1
...         position_keys(np.array([0, 3]), np.array([10, 5]), 1)]        # 模 in 0 at 10; in 3 at 5
>>> adjacent(np.sort(k) for k in keys).tolist()                              # 劳模: only document 0
[0]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from indexer.sortedsets import _contains, _distinct_sorted

_EMPTY_DOCS = np.zeros(0, dtype=np.int32)


def position_keys(docs: np.ndarray, positions: np.ndarray, step: int) -> np.ndarray:
    """The keys of occurrences of step ``step``: one document and one
    position per occurrence (int64, in the order given)."""
    return (docs.astype(np.int64) << 32) + (positions.astype(np.int64) - step)


def adjacent(step_keys: Iterable[np.ndarray]) -> np.ndarray:
    """Sorted distinct documents (int32) holding a key of every step.

    ``step_keys`` gives each step's keys (:func:`position_keys`) sorted; it
    is read lazily and no further once no key is left, so a generator pays
    nothing for the steps after a miss.
    """
    starts: np.ndarray | None = None  # (doc << 32) + position of the first step
    for keys in step_keys:
        if starts is None:
            starts = keys
        else:
            hit, _ = _contains(keys, starts)
            starts = starts[hit]
        if not len(starts):
            return _EMPTY_DOCS
    if starts is None:
        return _EMPTY_DOCS
    return _distinct_sorted(starts >> 32).astype(np.int32)
