"""Whoosh's postings written a field at a time, from numpy arrays.

Whoosh's ``W3PostingsWriter`` takes one posting per call (``add_posting``);
:func:`write_terms` writes every term of a field, its blocks and term
infos, byte for byte as that writer would (with :class:`indexer.codec.ZhCodec`'s
``inlinelimit``), and :func:`encode_positions` makes the ``Positions``
values (a count and a pickled list of gaps) byte for byte as Whoosh's
encoder does, with numpy.
The bulk writer (:mod:`indexer.bulkwriter`) and the bulk merge
(:mod:`indexer.bulkmerge`) both write their postings through these.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.formats import Positions
from whoosh.system import pack_int, pack_long, pack_ushort

from indexer import arrays_format
from indexer.codec import block_bytes, inline_values, inlined_bytes
from indexer.whoosh_internals import LENGTH_BYTES, field_writer_files, term_info_packer

__all__ = ["ENCODE_CHUNK", "EncodedPositions", "encode_field", "encode_positions", "gaps",
           "write_terms"]

_PICKLE_HEAD = b"\x80\x02]q\x00"  # pickle protocol 2: PROTO, EMPTY_LIST, BINPUT 0


# -- the positions of a posting, as Whoosh's Positions format encodes them -----------


def encode_positions(counts: np.ndarray, deltas: np.ndarray) -> EncodedPositions:
    """``Positions.encode`` of every posting, byte for byte: a 4-byte count,
    then ``pickle.dumps(deltas, 2)``.

    ``counts[i]`` positions per posting, ``deltas`` their gaps (the first
    from 0), concatenated. Postings of 1 to 1000 gaps all below 256 (nearly
    every one) are built with numpy; the others by Whoosh's own encoder.

    >>> encode_positions(np.array([1, 2]), np.array([3, 0, 5])).take(0, 2) == [
    ...     Positions().encode([3]), Positions().encode([0, 5])]
    True
    """
    n = len(counts)
    counts = counts.astype(np.int64)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    big = np.zeros(n, dtype=bool)
    if len(deltas):
        over = (deltas >= 256).astype(np.int64)
        per = np.add.reduceat(over, starts) if n else over
        big = (per > 0) | (counts > 1000)
    fast = ~big & (counts > 0)
    single = fast & (counts == 1)
    multi = fast & (counts > 1)
    sizes = np.where(single, 13, 12 + 2 * counts)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(fast, sizes, 0), out=offsets[1:])
    buf = np.zeros(int(offsets[-1]), dtype=np.uint8)
    at = offsets[:-1][fast]
    c = counts[fast]
    for k in range(4):  # the count, big-endian
        buf[at + k] = (c >> (8 * (3 - k))) & 0xFF
    for k, byte in enumerate(_PICKLE_HEAD):
        buf[at + 4 + k] = byte
    s_at = offsets[:-1][single]
    buf[s_at + 9] = ord("K")
    buf[s_at + 10] = deltas[starts[single]]
    buf[s_at + 11] = ord("a")
    buf[s_at + 12] = ord(".")
    m_at = offsets[:-1][multi]
    m_counts = counts[multi]
    buf[m_at + 9] = ord("(")
    item = arrays_format._ranges(m_at + 10, m_counts * 2)[::2]  # where each 'K' goes
    buf[item] = ord("K")
    buf[item + 1] = deltas[arrays_format._ranges(starts[multi], m_counts)]
    buf[m_at + 10 + 2 * m_counts] = ord("e")
    buf[m_at + 11 + 2 * m_counts] = ord(".")
    blob = buf.tobytes()
    del buf
    special = {}
    if big.any():
        encode = Positions().encode
        for i in np.flatnonzero(big).tolist():
            gaps = deltas[starts[i]:starts[i] + counts[i]]
            special[i] = encode(np.cumsum(gaps).tolist())
    return EncodedPositions(blob, offsets, special)


# Postings encoded at a time by encode_field: encode_positions makes int64
# temporaries per posting and per position (~90 bytes a word in all), which
# were the peak of a worker: 27.6 bytes of tracemalloc per byte of text on 90
# files of the 2022 news, against 14.6 before it ran.
ENCODE_CHUNK = 1 << 16


def gaps(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each value less the one before it, as int64; the first of each run
    (at ``starts``) as it is: a posting's positions as Whoosh encodes them,
    a block's document numbers.

    >>> gaps(np.array([3, 5, 9, 2, 4]), np.array([0, 3])).tolist()
    [3, 2, 4, 2, 2]
    """
    out = values.astype(np.int64)
    if len(out):
        out[1:] -= values[:-1]
        out[starts] = values[starts]
    return out


def encode_field(counts: np.ndarray, positions: np.ndarray) -> EncodedPositions:
    """:func:`encode_positions` of every posting of a field, from its
    positions (``counts[i]`` per posting, concatenated, ascending within
    each), ENCODE_CHUNK postings at a time: the same values, with a chunk's
    gaps and temporaries only.

    >>> counts, positions = np.array([1, 2, 1]), np.array([3, 0, 5, 300])
    >>> encode_field(counts, positions).take(0, 3) == encode_positions(
    ...     counts, np.array([3, 0, 5, 300])).take(0, 3)
    True
    """
    n = len(counts)
    pos_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=pos_ptr[1:])
    if n <= ENCODE_CHUNK:
        return encode_positions(counts, gaps(positions, pos_ptr[:-1]))
    offsets = np.empty(n + 1, dtype=np.int64)
    blobs: list[bytes] = []
    special: dict[int, bytes] = {}
    size = 0
    for a in range(0, n, ENCODE_CHUNK):
        b = min(a + ENCODE_CHUNK, n)
        part = encode_positions(counts[a:b], gaps(positions[pos_ptr[a]:pos_ptr[b]],
                                                  pos_ptr[a:b] - pos_ptr[a]))
        offsets[a:b] = part._offsets[:-1] + size
        size += len(part._blob)
        blobs.append(part._blob)
        special.update((a + i, value) for i, value in part._special.items())
    offsets[n] = size
    blob = b"".join(blobs)
    del blobs
    return EncodedPositions(blob, offsets, special)


class EncodedPositions:
    """The encoded positions of every posting of a field, in one buffer: a
    block's ``bytes`` are made when the block is written. A list of them all
    held 1.5 million objects for the 2022 news (about 130 MB)."""

    def __init__(self, blob: bytes, offsets: np.ndarray, special: dict[int, bytes]):
        self._blob = blob
        self._offsets = offsets  # posting i is blob[offsets[i]:offsets[i + 1]]...
        self._special = special  # ...unless Whoosh's encoder made it
        self._special_at = sorted(special)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def take(self, start: int, stop: int) -> list[bytes]:
        """The values of postings ``start`` to ``stop`` (excluded)."""
        blob = self._blob
        bounds = self._offsets[start:stop + 1].tolist()
        out = [blob[a:b] for a, b in zip(bounds, bounds[1:])]
        at = self._special_at
        if at:
            for i in at[bisect_left(at, start):bisect_left(at, stop)]:
                out[i - start] = self._special[i]
        return out


# -- a field's terms, every block at once ----------------------------------------------

# length_to_byte's table: a length's byte is its bisect_left here (255 from
# 106,374 on, 0 for no length), as Whoosh's block and term statistics keep it.
_LENGTH_BYTES = np.array(LENGTH_BYTES, dtype=np.int64)
_NO_LENGTH = np.iinfo(np.int64).max


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``length_to_byte`` of every length (0 and _NO_LENGTH for none).

    >>> from whoosh.util.numeric import length_to_byte
    >>> n = np.array([0, 1, 2, 7, 100, 5000, 106373, 106374, _NO_LENGTH])
    >>> _length_bytes(n).tolist() == [0] + [length_to_byte(int(x)) for x in n[1:-1]] + [0]
    True
    """
    found = np.minimum(np.searchsorted(_LENGTH_BYTES, lengths, side="left"), 255)
    found[(lengths == 0) | (lengths == _NO_LENGTH)] = 0
    return found


def _reduce(ufunc: np.ufunc, values: np.ndarray, start: np.ndarray, stop: np.ndarray
            ) -> np.ndarray:
    """``ufunc`` reduced over ``values[start[i]:stop[i]]`` for every i (each
    run non-empty; runs need not touch, where ``reduceat`` alone would run
    each to the next start).

    >>> _reduce(np.maximum, np.array([5, 1, 7, 2, 9]), np.array([0, 3]), np.array([2, 5])).tolist()
    [5, 9]
    """
    bounds = np.empty(2 * len(start), dtype=np.int64)
    bounds[0::2], bounds[1::2] = start, stop
    return ufunc.reduceat(np.append(values, values[:1]), bounds)[0::2]


# Postings and terms written at a time: the lists of a run hold ~150 bytes
# a posting and a term (a merge's ID field at 1M passages is a million of
# each), and its output is held until the run ends.
WRITE_RUN = 1 << 16


def _runs(ptr: np.ndarray) -> list[int]:
    """Term numbers that cut ``ptr``'s terms into runs of at most WRITE_RUN
    postings and terms together (a term alone may hold more), first and
    last included.

    >>> _runs(np.array([0, 40_000, 70_000, 70_001, 300_000]))
    [0, 1, 3, 4]
    """
    terms = len(ptr) - 1
    if terms < 1:
        return [0]
    cost = (ptr - ptr[0]) + np.arange(terms + 1)
    ends = np.searchsorted(cost, np.arange(WRITE_RUN, int(cost[-1]), WRITE_RUN), side="right") - 1
    return sorted({0, terms, *(int(t) for t in ends if 0 < t < terms)})


def write_terms(fieldwriter, btexts: Sequence[bytes], term_ptr: np.ndarray, docs: np.ndarray,
                freqs: np.ndarray | None = None, values: EncodedPositions | None = None,
                lengths: np.ndarray | None = None, values_first: int = 0) -> None:
    """Every term of the field ``fieldwriter`` was started on, in byte order:
    term ``t``'s postings are ``docs[term_ptr[t]:term_ptr[t + 1]]``, their
    frequencies (None: an ``Existence`` field, every weight 1.0) and
    positions (``values``, posting ``i`` at ``i - values_first``).

    Writes the postings file and the term table as Whoosh's
    ``W3FieldWriter`` would, posting by posting, byte for byte: a term of
    fewer postings than the codec's ``inlinelimit`` in its term info, any
    other in blocks of ``blocklimit`` (the ids as gaps, the weights and
    values as ``W3PostingsWriter`` minifies them, pickled and compressed;
    each block's count, last id, top weight and length bytes; a negative
    length for the last); ``_minlength`` over the non-zero lengths, as
    Whoosh skips a length of 0. Its statistics are taken over all blocks
    with numpy, and the blocks of every term are written in one pass: the
    codec's writer spent ~37 us a block in Python around the pickle and
    zlib calls, over 50,000 blocks a segment of 19,137 passages.
    """
    files = field_writer_files(fieldwriter)
    limit, compression, inline = files.blocklimit, files.compression, files.inlinelimit
    fixed = files.format.fixed_value_size()
    if (fixed == 0) != (values is None) or (fixed is not None and fixed != 0):
        raise ValueError("write_terms writes Positions or Existence postings only")
    postfile, tindex = files.postfile, files.term_table
    prefix = pack_ushort(files.field_id)
    ptr = np.asarray(term_ptr, dtype=np.int64)
    runs = _runs(ptr)
    if len(runs) > 2:
        for a, b in zip(runs, runs[1:]):
            write_terms(fieldwriter, btexts[a:b], ptr[a:b + 1], docs, freqs, values, lengths,
                        values_first)
        return
    base = int(ptr[0]) if len(ptr) else 0
    ptr = ptr - base
    n = int(ptr[-1]) if len(ptr) else 0
    if not n:
        return
    doc = np.asarray(docs[base:base + n], dtype=np.int64)
    weight = (np.ones(n) if freqs is None else
              np.asarray(freqs[base:base + n]).astype(np.float32).astype(np.float64))
    length = np.zeros(n, dtype=np.int64) if lengths is None else \
        np.asarray(lengths, dtype=np.int64)[doc]
    df = np.diff(ptr)
    # Each term's blocks: limit postings from its start, the last shorter.
    per_term = np.where(df < inline, 0, -(-df // limit))
    block_term = np.repeat(np.arange(len(df)), per_term)
    first_block = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(per_term, out=first_block[1:])
    start = ptr[block_term] + (np.arange(len(block_term)) - first_block[block_term]) * limit
    stop = np.minimum(start + limit, ptr[block_term + 1])
    # Statistics per block and per term, reduced over the postings.
    nonzero = np.where(length > 0, length, _NO_LENGTH)
    heads = ptr[:-1]
    t_min = np.minimum.reduceat(nonzero, heads)
    t_max = np.maximum.reduceat(length, heads)
    t_weight = np.add.reduceat(weight, heads)
    t_top = np.maximum.reduceat(weight, heads)
    t_minbyte = _length_bytes(t_min).tolist()
    t_maxbyte = _length_bytes(t_max).tolist()
    if len(start):
        # Blocks of terms apart are not contiguous: a term kept in its term
        # info may lie between them.
        b_minbyte = _length_bytes(_reduce(np.minimum, nonzero, start, stop)).tolist()
        b_maxbyte = _length_bytes(_reduce(np.maximum, length, start, stop)).tolist()
        b_top = _reduce(np.maximum, weight, start, stop)
        b_low = _reduce(np.minimum, weight, start, stop)
        b_ones = ((b_top == 1.0) & (b_low == 1.0)).tolist()
        b_same = (b_top == b_low).tolist()
        b_top = b_top.tolist()
    gap_list, doc_list, weight_list = gaps(doc, start).tolist(), doc.tolist(), weight.tolist()
    ptr_list, start_list, stop_list = ptr.tolist(), start.tolist(), stop.tolist()
    first_list = first_block.tolist()
    t_weight, t_top = t_weight.tolist(), t_top.tolist()
    pack_info = term_info_packer()
    take = values.take if values is not None else None
    offset = postfile.tell()
    out: list[bytes] = []  # a run's postings file bytes, written at its end
    for t, btext in enumerate(btexts):
        a, b = ptr_list[t], ptr_list[t + 1]
        head = pack_info(b - a < inline, t_weight[t], b - a, t_minbyte[t], t_maxbyte[t],
                         t_top[t], doc_list[a], doc_list[b - 1])
        if b - a < inline:
            inlined = (tuple(doc_list[a:b]), tuple(weight_list[a:b]), tuple(inline_values(
                take(a + base - values_first, b + base - values_first) if take else [], b - a)))
            tindex.add(prefix + btext, head + inlined_bytes(inlined))
            continue
        term_start = offset
        out.append(WHOOSH3_HEADER_MAGIC)
        offset += 4
        last = first_list[t + 1] - 1
        for k in range(first_list[t], last + 1):
            i, j = start_list[k], stop_list[k]
            if b_ones[k]:
                mini_weights = None
            elif b_same[k]:
                mini_weights = weight_list[i]
            else:
                mini_weights = tuple(weight_list[i:j])
            block = block_bytes(
                tuple(gap_list[i:j]), mini_weights,
                tuple(take(i + base - values_first, j + base - values_first)) if take else None,
                j - i, doc_list[j - 1], b_top[k], b_minbyte[k], b_maxbyte[k], compression,
                k == last)
            out.append(block)
            offset += len(block)
        tindex.add(prefix + btext, head + pack_long(term_start) + pack_int(offset - term_start))
    postfile.write(b"".join(out))
