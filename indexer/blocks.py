"""Whoosh's postings written a block at a time, from numpy arrays.

Whoosh's ``W3PostingsWriter`` takes one posting per call (``add_posting``);
:func:`write_term` fills its block buffer with a whole block at once, and
:func:`encode_positions` makes the ``Positions`` values (a count and a
pickled list of gaps) byte for byte as Whoosh's encoder does, with numpy.
The bulk writer (:mod:`indexer.bulkwriter`) and the bulk merge
(:mod:`indexer.bulkmerge`) both write their postings through these.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

import numpy as np
from whoosh.formats import Positions

from indexer import arrays_format

__all__ = ["ENCODE_CHUNK", "EncodedPositions", "encode_field", "encode_positions", "write_term"]

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


def encode_field(counts: np.ndarray, deltas: np.ndarray) -> EncodedPositions:
    """:func:`encode_positions` of every posting of a field, ENCODE_CHUNK
    postings at a time: the same values, with a chunk's temporaries only.

    >>> counts, deltas = np.array([1, 2, 1]), np.array([3, 0, 5, 300])
    >>> chunked = encode_field(counts, deltas)
    >>> chunked.take(0, 3) == encode_positions(counts, deltas).take(0, 3)
    True
    """
    n = len(counts)
    if n <= ENCODE_CHUNK:
        return encode_positions(counts, deltas)
    pos_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=pos_ptr[1:])
    offsets = np.empty(n + 1, dtype=np.int64)
    blobs: list[bytes] = []
    special: dict[int, bytes] = {}
    size = 0
    for a in range(0, n, ENCODE_CHUNK):
        b = min(a + ENCODE_CHUNK, n)
        part = encode_positions(counts[a:b], deltas[pos_ptr[a]:pos_ptr[b]])
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


# -- one term's postings, a block at a time --------------------------------------------


def _uint_array(values: np.ndarray) -> array:
    out = array("I")
    out.frombytes(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
    return out


def write_term(fieldwriter, btext: bytes, docs: np.ndarray, freqs: np.ndarray | None,
                values: EncodedPositions | None, first: int, lengths: np.ndarray | None) -> None:
    """One term's postings through ``W3FieldWriter``, a whole block at a time.

    Sets the block buffer of Whoosh's ``W3PostingsWriter`` as its
    ``add_posting`` would have, posting by posting: the ids, the weights
    (the frequencies, as the field boost is 1), the encoded positions, and
    the block's statistics (``_minlength`` over the non-zero lengths, as
    Whoosh skips a length of 0); the codec then writes, pickles and
    compresses the block and keeps the term's statistics itself.
    """
    fieldwriter.start_term(btext)
    writer = fieldwriter._postwriter
    limit = writer._blocklimit
    n = len(docs)
    for a in range(0, n, limit):
        b = min(a + limit, n)
        writer._ids = _uint_array(docs[a:b])
        if freqs is None:  # Existence: every weight 1.0
            writer._weights = array("f", [1.0]) * (b - a)
            writer._maxweight = 1.0
        else:
            block = freqs[a:b]
            writer._weights = array("f", block.astype(np.float32).tobytes())
            writer._maxweight = float(block.max())
        writer._values = values.take(first + a, first + b) if values is not None else []
        if lengths is not None:
            block_lengths = lengths[docs[a:b]]
            block_lengths = block_lengths[block_lengths > 0]
        else:
            block_lengths = ()
        if len(block_lengths):
            writer._minlength = int(block_lengths.min())
            writer._maxlength = int(block_lengths.max())
        else:
            writer._minlength, writer._maxlength = None, 0
        if b < n:
            # Whoosh writes a full block when the next posting arrives; the
            # last block is written by finish_postings, marked as the last.
            writer._write_block()
    fieldwriter.finish_term()
