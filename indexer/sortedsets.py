"""Sorted arrays of document numbers as sets: membership and distinct
values, in the few numpy operations the tree walk (:mod:`indexer.evaluate`)
and the phrase check (:mod:`indexer.phrase`) both use.
"""

from __future__ import annotations

import numpy as np


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array.

    >>> _distinct_sorted(np.array([1, 1, 2, 5, 5])).tolist()
    [1, 2, 5]
    """
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values: numpy 2.4's np.unique takes 160 us for 2,000
    integers (it hashes), sorting and comparing neighbours 20 us."""
    return _distinct_sorted(np.sort(values))


def _contains(sorted_values: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``x``: whether it is in ``sorted_values``, and where."""
    if len(sorted_values) == 0:
        return np.zeros(len(x), dtype=bool), np.zeros(len(x), dtype=np.int64)
    at = np.searchsorted(sorted_values, x)
    at[at == len(sorted_values)] = len(sorted_values) - 1
    return sorted_values[at] == x, at
