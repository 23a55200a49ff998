"""Building one Whoosh segment's arrays (:mod:`indexer.arrays_format`)
by reading its postings back: what a segment that Whoosh's own writer made,
or a segment whose ``.zharrays`` is missing or damaged, gets.

The bulk writer (:mod:`indexer.bulkwriter`) derives the same arrays from
its own numpy arrays without reading back; the tests compare both.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import numpy as np

from indexer.arrays_format import (CODED_FIELDS, FIELD, DamagedArrays, _ranges, _smallest_uint,
                                   assemble)
from indexer.samestory import fingerprint
from indexer.whoosh_internals import (is_segment_reader, lengths_column, stored_column,
                                       term_blocks, terms_reader)


class SegmentGone(RuntimeError):
    """The segment's files were deleted before a build could read them:
    another process's commit merged it away. Its arrays are needed no more;
    the new generation's are."""


def _term_ids(terms, terminfo, fmt) -> np.ndarray:
    """One term's document numbers, deletions included."""
    parts = [np.cumsum(np.asarray(ids, dtype=np.int64))
             for ids, _ in term_blocks(terms, terminfo, fmt)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


_HEADER = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)  # pickle PROTO 2, EMPTY_LIST, BINPUT 0


def _decode_positions(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Counts and concatenated positions of Whoosh ``Positions`` values.

    Each value is a 4-byte count and a pickled list of position deltas
    (``pickle.dumps(deltas, 2)``). Values whose deltas are all below 256
    (nearly all) are read straight from the bytes; the others are unpickled.
    """
    n = len(values)
    lens = np.fromiter(map(len, values), dtype=np.int64, count=n)
    blob = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    b = blob.astype(np.int64)
    counts = (b[starts] << 24) | (b[starts + 1] << 16) | (b[starts + 2] << 8) | b[starts + 3]
    ok = np.ones(n, dtype=bool)
    for k, byte in enumerate(_HEADER):
        ok &= blob[np.minimum(starts + 4 + k, len(blob) - 1)] == byte
    # One delta:            header 'K' d 'a' '.'            (13 bytes)
    # Two to 1000 deltas:   header '(' ('K' d)* 'e' '.'     (12 + 2 * count bytes)
    single = ok & (counts == 1) & (lens == 13)
    single[single] = (blob[starts[single] + 9] == ord("K")) & (blob[starts[single] + 11] == ord("a"))
    multi = ok & (counts > 1) & (counts <= 1000) & (lens == 12 + 2 * counts)
    multi[multi] = blob[starts[multi] + 9] == ord("(")
    item_at = _ranges(starts[multi] + 10, counts[multi] * 2)[::2]  # each item's opcode
    bad_item = blob[item_at] != ord("K")
    if bad_item.any():
        owner = np.repeat(np.flatnonzero(multi), counts[multi])
        multi[np.unique(owner[bad_item])] = False
    fast = single | multi
    pos_start = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=pos_start[1:])
    deltas = np.empty(int(counts.sum()), dtype=np.int64)
    deltas[pos_start[single]] = blob[starts[single] + 10]
    deltas[_ranges(pos_start[multi], counts[multi])] = blob[
        _ranges(starts[multi] + 10, counts[multi] * 2)[1::2]]
    for i in np.flatnonzero(~fast).tolist():
        ds = pickle.loads(values[i][4:])
        if len(ds) != counts[i]:
            raise DamagedArrays("a posting's position count does not match its positions")
        deltas[pos_start[i]:pos_start[i] + len(ds)] = ds
    # Positions are deltas within each posting: a running sum restarted at
    # each posting's first position.
    running = np.cumsum(deltas)
    base = running[pos_start] - deltas[pos_start] if len(deltas) else np.zeros(n, dtype=np.int64)
    return counts, running - np.repeat(base, counts)


def _field_items(terms, fieldname: str) -> Iterator[tuple[bytes, object]]:
    for (name, btext), terminfo in terms.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield btext, terminfo


def _hold(reader) -> None:
    """Open the segment's column files that a build reads, before it reads.

    Whoosh opens a column file on first use, and another process's commit
    that merges the segment deletes its files: ``stored_fields`` then raised
    ``TypeError`` (its column reader was None) in the middle of a build, and
    a committed upload was answered 503 "rebuild the index" (issue 19). A
    file once open stays readable after it is deleted; one already gone
    means the segment is gone (every document stores fields).
    """
    if not is_segment_reader(reader):
        return
    lengths_column(reader, FIELD)  # absent when no passage has text
    if reader.doc_count_all() and stored_column(reader) is None:
        raise SegmentGone(f"segment {reader.segment().segment_id()} was merged away")


# Postings decoded at a time by build_arrays: a posting is a Python bytes
# object and int while it is decoded (~300 bytes with the joined and int64
# copies), so a chunk costs a constant ~5 MB. A 25,000-passage segment of
# the 2022 news (8.0 MB of arrays) peaked at 178 MB decoded whole, 28 MB in
# chunks of 65,536 postings, 13 MB in chunks of 16,384, at the same CPU.
BUILD_CHUNK = 1 << 14


class _Filling:
    """An output array written in order, in the smallest unsigned type its
    values need so far (the type :func:`_smallest_uint` gives the whole)."""

    def __init__(self, size: int, dtype: type | None = None):
        self.fixed = dtype is not None
        self.array: np.ndarray = np.empty(size, dtype=dtype or np.uint8)
        self.filled = 0

    def put(self, values: np.ndarray) -> None:
        n = len(values)
        if not n:
            return
        if not self.fixed:
            dtype = np.dtype(_smallest_uint(int(values.max())))
            if dtype.itemsize > self.array.itemsize:
                self.array = self.array.astype(dtype)
        end = self.filled + n
        if end > len(self.array):
            # More than the segment's statistics announced: never for a
            # segment Whoosh wrote, but the arrays still follow the postings.
            grown = np.empty(max(end, 2 * len(self.array)), dtype=self.array.dtype)
            grown[:self.filled] = self.array[:self.filled]
            self.array = grown
        self.array[self.filled:end] = values
        self.filled = end

    def result(self) -> np.ndarray:
        if self.filled < len(self.array):
            return self.array[:self.filled].copy()
        return self.array


def build_arrays(reader) -> tuple[dict, dict[str, np.ndarray]]:
    """The header fields and arrays of one Whoosh segment reader.

    Streams: the posting arrays are allocated once, from the terms'
    document frequencies and the field's length (its number of positions),
    and each chunk of :data:`BUILD_CHUNK` postings is decoded straight into
    them. The peak is the output plus one chunk (tracemalloc, a segment of
    26,832 passages of the 2022 news: 13.1 MB for 8.0 MB of arrays; 178 MB,
    302 bytes a posting, when every posting was decoded at once).

    Raises :class:`SegmentGone` when the segment's files were deleted first.
    """
    _hold(reader)
    segment = reader.segment()
    doc_count = reader.doc_count_all()
    schema = reader.schema
    fmt = schema[FIELD].format
    if getattr(fmt, "field_boost", 1.0) != 1.0:
        raise DamagedArrays("the content field has a field boost; weights would not be frequencies")
    terms = terms_reader(reader)
    words: list[str] = []
    has_field = FIELD in schema and FIELD in terms.indexed_field_names()
    total = 0
    if has_field:
        for btext, terminfo in _field_items(terms, FIELD):
            words.append(btext.decode("utf-8"))
            total += terminfo.doc_frequency()  # type: ignore[attr-defined]
    docs = _Filling(total, np.int32)
    counts = _Filling(total)
    positions = _Filling(int(reader.field_length(FIELD)) if has_field else 0)
    term_ptr = np.zeros(len(words) + 1, dtype=np.int64)
    deltas: list[int] = []
    block_lens: list[int] = []
    values: list[bytes] = []

    def flush() -> None:
        # Document numbers: a running sum of the deltas, restarted at each block.
        d = np.asarray(deltas, dtype=np.int64)
        lens = np.asarray(block_lens, dtype=np.int64)
        running = np.cumsum(d)
        block_starts = np.cumsum(lens) - lens
        docs.put(running - np.repeat(running[block_starts] - d[block_starts], lens))
        if values:
            chunk_counts, chunk_positions = _decode_positions(values)
            counts.put(chunk_counts)
            positions.put(chunk_positions)
        deltas.clear()
        block_lens.clear()
        values.clear()

    if has_field:
        for t, (btext, terminfo) in enumerate(_field_items(terms, FIELD)):
            if t >= len(words) or words[t].encode("utf-8") != btext:
                raise DamagedArrays("the segment's terms changed while its arrays were built")
            n = 0
            for ids, vals in term_blocks(terms, terminfo, fmt):
                deltas.extend(ids)
                values.extend(vals)
                block_lens.append(len(ids))
                n += len(ids)
                if len(values) >= BUILD_CHUNK:
                    flush()
            term_ptr[t + 1] = n
    if deltas or values:
        flush()
    np.cumsum(term_ptr, out=term_ptr)
    freqs = counts.result()
    n_positions = int(freqs.sum(dtype=np.int64))
    pos_ptr = np.zeros(len(freqs) + 1, dtype=np.uint32 if n_positions < 2**32 else np.int64)
    np.cumsum(freqs, dtype=pos_ptr.dtype, out=pos_ptr[1:])
    lengths = np.zeros(doc_count, dtype=np.uint32)
    for docnum in range(doc_count):
        lengths[docnum] = reader.doc_field_length(docnum, FIELD, 0) or 0
    fingerprints = story_fingerprints(reader)
    coded = {}
    for fieldname in CODED_FIELDS:
        if fieldname in schema and fieldname in terms.indexed_field_names():
            codes = np.full(doc_count, -1, dtype=np.int32)
            names: list[bytes] = []
            sub_fmt = schema[fieldname].format
            for btext, terminfo in _field_items(terms, fieldname):
                code = len(names)
                names.append(btext)
                codes[_term_ids(terms, terminfo, sub_fmt)] = code
            # Whoosh's lexicon is in byte order already: codes order like the values.
            coded[fieldname] = (names, codes)
    postings = {"term_ptr": term_ptr, "docs": docs.result(), "freqs": freqs, "pos_ptr": pos_ptr,
                "positions": positions.result()}
    return assemble(segment.segment_id(), doc_count, int(reader.field_length(FIELD)), words,
                    postings, lengths, fingerprints, coded)


def story_fingerprints(reader) -> np.ndarray:
    """Each document's story fingerprint (int64), from its stored text and kind.

    0.55 s of a 25,000-passage segment's 2.2 s build (reading the stored
    fields is 0.35 s of it): +1.2 s, 2 %, on indexing the 365 files of 2022
    in 63 s; 0.2 MB a segment (8 bytes a passage, 2.5 % of its arrays).
    """
    out = np.zeros(reader.doc_count_all(), dtype=np.int64)
    for docnum in range(len(out)):
        doc = reader.stored_fields(docnum)
        out[docnum] = fingerprint(doc.get(FIELD), doc.get("kind"))
    return out
