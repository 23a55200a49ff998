"""Merging the arrays of consecutive segments into one: what a long-lived
server walks instead of one tree per segment, written once per generation
as the snapshot every process maps (:mod:`indexer.snapshot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.arrays_format import (CODED_FIELDS, SegmentArrays, _ranges, _split, assemble,
                                   from_memory, postings_arrays)


# Postings per slice when merged positions are copied (bounds the temporaries).
_MERGE_SLICE = 1 << 18


@dataclass
class MergedPostings:
    """The content field's postings of several segments as one list per word:
    words in byte order, positions concatenated per posting."""

    words: list[str]
    term_ptr: np.ndarray
    docs: np.ndarray
    freqs: np.ndarray
    pos_ptr: np.ndarray
    positions: np.ndarray


def merge_postings(parts: Sequence[SegmentArrays],
                   docmaps: Sequence[np.ndarray] | None = None) -> MergedPostings:
    """The postings of ``parts`` merged: each document renumbered by its
    segment's ``docmaps`` (-1: dropped, a word left with no posting dropped
    too), or, without ``docmaps``, numbered as Whoosh's multi-segment reader
    numbers them (each segment after the ones before it). The merge of a
    commit's segments (:mod:`indexer.bulkmerge`) and the snapshot of a
    generation (:func:`merge_arrays`) are both this.

    >>> from indexer.arrays_format import _toy
    >>> a = from_memory(*_toy(["劳模", "工会"], [[0, 1], [1]], 2))
    >>> b = from_memory(*_toy(["工会"], [[0]], 1))
    >>> m = merge_postings([a, b], [np.array([0, -1]), np.array([1])])
    >>> m.words, m.docs.tolist()
    (['劳模', '工会'], [0, 1])
    """
    if docmaps is None:
        docmaps, offset = [], 0
        for p in parts:
            docmaps.append(np.arange(offset, offset + p.doc_count, dtype=np.int64))
            offset += p.doc_count
    words_of = [_split(p._terms_blob, p.header["terms"]) for p in parts]
    union = sorted(set().union(*words_of))  # UTF-8 keeps code point order: Whoosh's
    rank: dict[str, int] = dict(zip(union, range(len(union))))
    local = []  # per segment: global word of each word, postings kept, kept per word
    per_term = np.zeros(len(union), dtype=np.int64)
    for p, words, docmap in zip(parts, words_of, docmaps):
        g = np.fromiter((rank[w] for w in words), dtype=np.int64, count=len(words))
        sizes = np.diff(p.term_ptr).astype(np.int64)
        if len(docmap) and int(docmap.min()) >= 0:
            keep, kept = None, sizes  # no document dropped
        else:
            keep = docmap[p.docs] >= 0 if len(p.docs) else np.zeros(0, dtype=bool)
            term_of = np.repeat(np.arange(len(words), dtype=np.int64), sizes)
            kept = np.bincount(term_of[keep], minlength=len(words)).astype(np.int64)
            del term_of
        np.add.at(per_term, g, kept)
        local.append((g, keep, kept))
    present = per_term > 0
    term_ptr = np.zeros(len(union) + 1, dtype=np.int64)
    np.cumsum(per_term, out=term_ptr[1:])
    total = int(term_ptr[-1])
    # Each segment's list of a word goes right after the earlier segments'
    # lists of that word: a scatter, no sort (a stable argsort of the whole
    # folder's postings took 0.4 s).
    docs = np.empty(total, dtype=np.int32)
    freqs = np.empty(total, dtype=np.result_type(*(p.freqs for p in parts)) if parts else np.uint8)
    dests = []
    filled = term_ptr[:-1].copy()
    for p, docmap, (g, keep, kept) in zip(parts, docmaps, local):
        dest = _ranges(filled[g], kept)
        if keep is None:
            docs[dest] = docmap[p.docs]
            freqs[dest] = p.freqs
        else:
            docs[dest] = docmap[p.docs[keep]]
            freqs[dest] = p.freqs[keep]
        filled[g] += kept
        dests.append(dest)
    # A posting holds one position per occurrence: its frequency.
    pos_ptr = np.zeros(total + 1, dtype=np.uint32 if int(freqs.sum(dtype=np.int64)) < 2**32
                       else np.int64)
    np.cumsum(freqs, dtype=pos_ptr.dtype, out=pos_ptr[1:])
    # Each segment's positions are copied to their new places a slice of
    # postings at a time: one gather over all of them made int64 index
    # arrays of every position at once (the whole folder's merge peaked at
    # 628 MB RSS for a 200 MB result).
    positions = np.empty(int(pos_ptr[-1]),
                         dtype=np.result_type(*(p.positions for p in parts)) if parts else np.uint8)
    for p, (g, keep, kept), dest in zip(parts, local, dests):
        src = None if keep is None else np.flatnonzero(keep)
        for a in range(0, len(dest), _MERGE_SLICE):
            to = dest[a:a + _MERGE_SLICE]
            if src is None:  # every posting kept: the slice's positions lie together
                ptr = p.pos_ptr[a:a + len(to) + 1].astype(np.int64)
                counts, taken = np.diff(ptr), p.positions[ptr[0]:ptr[-1]]
            else:
                chunk = src[a:a + _MERGE_SLICE]
                counts = p.pos_ptr[chunk + 1].astype(np.int64) - p.pos_ptr[chunk].astype(np.int64)
                taken = p.positions[_ranges(p.pos_ptr[chunk].astype(np.int64), counts)]
            positions[_ranges(pos_ptr[to].astype(np.int64), counts)] = taken
    del dests, local
    if not present.all():
        term_ptr = np.concatenate(([0], term_ptr[1:][present]))
    return MergedPostings([w for w, k in zip(union, present.tolist()) if k], term_ptr,
                          docs, freqs, pos_ptr, positions)


def merge_arrays(parts: Sequence[SegmentArrays]) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of consecutive segments as one: document numbers
    as Whoosh's multi-segment reader numbers them (each segment after the
    ones before it), one posting list per word, its words in byte order, as
    ``sorted()`` orders them (a :class:`~indexer.terms.SortedTerms` finds
    them by bisection), coded fields recoded into the union of their sorted
    values: the snapshot of a generation (:mod:`indexer.snapshot`).

    A query tree is walked once per segment, in Python; a full build with
    both cores leaves two segments, and walking one merged segment instead
    took the 68 benchmark queries from 3.03 to 2.09 ms on average (2022
    subset).

    >>> from indexer.arrays_format import _toy
    >>> a = from_memory(*_toy(["劳模", "工会"], [[0, 1], [1]], 2))
    >>> b = from_memory(*_toy(["工会"], [[0]], 1))
    >>> m = from_memory(*merge_arrays([a, b]))
    >>> {w: m.docs[slice(*m.postings(w))].tolist() for w in ("劳模", "工会")}
    {'劳模': [0, 1], '工会': [1, 2]}
    """
    merged = merge_postings(parts)
    coded = {}
    for fieldname in CODED_FIELDS:
        # Sorted as Whoosh's lexicon is (UTF-8 bytes): ranges of dates bisect it.
        names = sorted({n for p in parts for n in p.names_bytes(fieldname)})
        code_of = {n: i for i, n in enumerate(names)}
        codes = []
        for p in parts:
            # One entry more, for code -1 (no value).
            table = np.array([code_of[n] for n in p.names_bytes(fieldname)] + [-1], dtype=np.int32)
            codes.append(table[p.codes[fieldname]])
        coded[fieldname] = (names, np.concatenate(codes))
    return assemble(
        "+".join(p.segment_id for p in parts), sum(p.doc_count for p in parts),
        sum(p.field_length for p in parts), merged.words,
        postings_arrays(merged.term_ptr, merged.docs, merged.freqs, merged.pos_ptr,
                        merged.positions),
        np.concatenate([p.lengths for p in parts]),
        np.concatenate([p.fingerprints for p in parts]), coded)
