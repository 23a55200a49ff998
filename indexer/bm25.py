"""BM25, as Whoosh 2.7.4 scores it: the formula the array evaluation
(:mod:`indexer.evaluate`) applies to whole posting lists at once.

Whoosh stays the reference: ``whoosh.scoring.bm25`` and
``WeightingModel.idf`` are reproduced operation for operation, so that the
equivalence tests (tests/test_evaluate.py) find the same scores, ties
included. What Whoosh feeds them, and so what the arrays store:

- ``df`` and ``doc_count`` count every document, deleted ones too;
- ``fl`` is a document's length as the one-byte approximation Whoosh keeps
  (``SegmentArrays.lengths``), ``avgfl`` the field's total length over
  ``doc_count`` (1 when that is 0).

How a passage's BM25 then becomes its rank (titles, lead passages) is
:mod:`indexer.relevance`.
"""

from __future__ import annotations

import math

import numpy as np


def idf(doc_count: int, df: int) -> float:
    """Whoosh's ``WeightingModel.idf``: ``log(N / (df + 1)) + 1``.

    >>> round(idf(1000, 9), 6)
    5.60517
    """
    return math.log(doc_count / (df + 1)) + 1


def bm25(idf: float, tf: np.ndarray, fl: np.ndarray, avgfl: float, B: float, K1: float
         ) -> np.ndarray:
    """The BM25 of one term in each of its documents: ``tf`` its frequencies,
    ``fl`` the documents' lengths (float64 arrays), ``idf`` from :func:`idf`.

    ``whoosh.scoring.bm25``, the same operations in the same order, so the
    floats are equal, not merely close:

    >>> from whoosh import scoring
    >>> tf, fl = np.array([1.0, 2.0, 7.0]), np.array([3.0, 40.0, 255.0])
    >>> got = bm25(2.5, tf, fl, 21.3, 0.75, 1.2)
    >>> got.tolist() == [scoring.bm25(2.5, t, f, 21.3, 0.75, 1.2) for t, f in zip(tf, fl)]
    True
    """
    return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
