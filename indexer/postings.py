"""Derived arrays beside each Whoosh segment, for vectorised query evaluation.

Whoosh stays the store of record. For each of its segments this module keeps
one file of numpy arrays, ``<index>_<segment id>.zharrays``:

- the ``content`` field's postings: per term its document numbers (int32),
  term frequencies and word positions, in Whoosh's own term order;
- per document: the content field's length as Whoosh's scorer sees it (its
  one-byte approximation), the ``source``, ``date``, ``kind`` and
  ``article`` fields as integer codes into sorted vocabularies, and the
  passage's story fingerprint (:mod:`indexer.samestory`; 0: never folds).

A segment never changes once written but for deletions, which are read from
the Whoosh reader at query time, so the file is named by segment and a new
commit never invalidates it. Whoosh's own clean-up deletes every file named
``<index>_<segment id>.<anything>`` of a segment that is gone, so the arrays
leave with their segment. The file is written under a hidden temporary name
and renamed (Whoosh never touches names starting with a dot), ends with a
footer holding a CRC-32 of every byte before it (header included, as
Lucene's ``CodecUtil`` footer does), and is memory-mapped read-only: several
server processes share one copy through the page cache. A missing, damaged or
mismatching file is rebuilt from the segment, never trusted.
"""

from __future__ import annotations

import fcntl
import json
import logging
import multiprocessing
import os
import pickle
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length

from indexer.samestory import fingerprint
from indexer.terms import TABLE_ARRAYS, SortedTerms, UnsortedTerms

MAGIC = b"ZHSARRS1"
VERSION = 3  # 2: the story fingerprint of each passage; 3: the checksum covers the whole file
SUFFIX = ".zharrays"
FIELD = "content"
CODED_FIELDS = ("source", "date", "kind", "article")
_ALIGN = 64
_PREFIX = struct.Struct("<8sII")  # magic, version, header length
# The footer: magic, checksum algorithm (0: zlib's CRC-32), then the CRC-32 of
# every byte before the checksum itself. A CRC of the body only let one
# changed byte of the JSON header through (issue 19: a ``docs`` offset +4 gave
# 4 hits for 3 with exit 0, and `check` said OK).
FOOTER_MAGIC = b"ZHSAEND1"
_FOOTER = struct.Struct("<8sII")
_CRC32 = 0

# Whoosh scores with a one-byte approximation of each document's length;
# this table decodes the byte exactly as its scorer does.
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class DamagedArrays(ValueError):
    """An arrays file that cannot be used as it is; ``str()`` says why."""


class SegmentGone(RuntimeError):
    """The segment's files were deleted before a build could read them:
    another process's commit merged it away. Its arrays are needed no more;
    the new generation's are."""


_log = logging.getLogger(__name__)


def file_name(segment_id: str) -> str:
    """``MAIN_<segid>.zharrays``: Whoosh deletes it with its segment.

    >>> file_name("MAIN_abc123")
    'MAIN_abc123.zharrays'
    """
    return segment_id + SUFFIX


# -- building ------------------------------------------------------------------


def _term_blocks(terms_reader, terminfo, fmt) -> Iterator[tuple[list, list]]:
    """Yield ``(ids, values)`` per block of one term's postings, deletions
    included; ids are deltas from 0 within each block.

    Reads Whoosh 2.7.4's block data directly: going through the matcher one
    posting at a time takes 3 s per 25,000-passage segment.
    """
    if terminfo.is_inlined():
        ids, _, values = terminfo.inlined_postings()
        ids = list(ids)
        yield [ids[0]] + [b - a for a, b in zip(ids, ids[1:])] if ids else [], values
        return
    offset, length = terminfo.extent()
    m = W3LeafMatcher(terms_reader._postfile, offset, length, fmt)
    while True:
        m._read_data()
        yield m._data[0], m._data[2]
        if m._lastblock:
            return
        m._goto(m._nextoffset)


def _term_ids(terms_reader, terminfo, fmt) -> np.ndarray:
    """One term's document numbers, deletions included."""
    parts = [np.cumsum(np.asarray(ids, dtype=np.int64))
             for ids, _ in _term_blocks(terms_reader, terminfo, fmt)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


_HEADER = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)  # pickle PROTO 2, EMPTY_LIST, BINPUT 0


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``range(s, s + c)`` for each start and count.

    >>> _ranges(np.array([10, 3]), np.array([2, 3])).tolist()
    [10, 11, 3, 4, 5]
    """
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    shift = np.repeat(starts - (ends - counts), counts)
    return shift + np.arange(total, dtype=np.int64)


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


def _smallest_uint(maximum: int) -> type:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if maximum <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


def _blob(strings: list[str]) -> np.ndarray:
    """Strings joined by NUL (never in a term, file name or date) as bytes."""
    return np.frombuffer("\0".join(strings).encode("utf-8"), dtype=np.uint8)


def _field_items(terms_reader, fieldname: str) -> Iterator[tuple[bytes, object]]:
    for (name, btext), terminfo in terms_reader.items_from(fieldname, b""):
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
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return
    perdoc._cached_reader(_lenfield(FIELD), LENGTHS_COLUMN)  # absent when no passage has text
    if reader.doc_count_all() and perdoc._cached_reader("_stored", STORED_COLUMN) is None:
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
    terms_reader = reader._terms
    words: list[str] = []
    has_field = FIELD in schema and FIELD in terms_reader.indexed_field_names()
    total = 0
    if has_field:
        for btext, terminfo in _field_items(terms_reader, FIELD):
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
        for t, (btext, terminfo) in enumerate(_field_items(terms_reader, FIELD)):
            if t >= len(words) or words[t].encode("utf-8") != btext:
                raise DamagedArrays("the segment's terms changed while its arrays were built")
            n = 0
            for ids, vals in _term_blocks(terms_reader, terminfo, fmt):
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
    arrays: dict[str, np.ndarray] = {
        "term_ptr": term_ptr,
        "docs": docs.result(),
        "freqs": freqs,
        "pos_ptr": pos_ptr,
        "positions": positions.result(),
        "lengths": lengths,
        "fingerprints": fingerprints,
        "terms": _blob(words),
    }
    header = {"segment": segment.segment_id(), "doc_count": doc_count,
              "field_length": int(reader.field_length(FIELD)), "terms": len(words),
              "vocabularies": {}}
    for fieldname in CODED_FIELDS:
        codes = np.full(doc_count, -1, dtype=np.int32)
        names: list[bytes] = []
        if fieldname in schema and fieldname in terms_reader.indexed_field_names():
            sub_fmt = schema[fieldname].format
            for btext, terminfo in _field_items(terms_reader, fieldname):
                code = len(names)
                names.append(btext)
                codes[_term_ids(terms_reader, terminfo, sub_fmt)] = code
        # Whoosh's lexicon is in byte order already: codes order like the values.
        arrays[f"{fieldname}_codes"] = codes
        arrays[f"{fieldname}_names"] = _blob([b.decode("utf-8") for b in names])
        header["vocabularies"][fieldname] = len(names)
    return header, arrays


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


# -- the file ------------------------------------------------------------------


def _aligned(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def encode(header: dict, arrays: dict[str, np.ndarray]) -> list[bytes | memoryview]:
    """The file's bytes as a list of chunks: prefix, header, aligned arrays."""
    layout: dict[str, list] = {}
    starts: dict[str, int] = {}
    offset = 0
    for name, array in arrays.items():
        layout[name] = [array.dtype.str, offset, int(array.size)]
        starts[name] = offset
        offset = _aligned(offset + array.nbytes)
    body_size = offset
    full = dict(header, version=VERSION, arrays=layout, body_size=body_size)
    text = json.dumps(full, sort_keys=True).encode("utf-8")
    head_len = _aligned(_PREFIX.size + len(text)) - _PREFIX.size
    head = _PREFIX.pack(MAGIC, VERSION, head_len) + text.ljust(head_len, b" ")
    chunks: list[bytes | memoryview] = [head]
    at = 0
    for name, array in arrays.items():
        start = starts[name]
        if start > at:
            chunks.append(b"\0" * (start - at))
        chunks.append(np.ascontiguousarray(array).view(np.uint8).data)
        at = start + array.nbytes
    if body_size > at:
        chunks.append(b"\0" * (body_size - at))
    footer = FOOTER_MAGIC + struct.pack("<I", _CRC32)
    crc = 0
    for chunk in [*chunks, footer]:
        crc = zlib.crc32(chunk, crc)
    chunks.append(footer + struct.pack("<I", crc))
    return chunks


def write_file(path: Path, chunks: list) -> None:
    """Write ``chunks`` to ``path`` atomically (a hidden temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _verify_footer(buf) -> None:
    """Raise DamagedArrays unless the footer's CRC-32 matches every byte
    before it: nothing of the file is parsed until it does."""
    if len(buf) < _PREFIX.size + _FOOTER.size:
        raise DamagedArrays("shorter than its header and footer")
    magic, algorithm, crc = _FOOTER.unpack_from(buf, len(buf) - _FOOTER.size)
    if magic != FOOTER_MAGIC or algorithm != _CRC32:
        raise DamagedArrays("no footer (truncated, or not written whole)")
    if zlib.crc32(buf[:len(buf) - 4].data) != crc:
        raise DamagedArrays("checksum mismatch")


def _read_header(buf) -> tuple[dict, int]:
    if len(buf) < _PREFIX.size:
        raise DamagedArrays("shorter than its header")
    magic, version, head_len = _PREFIX.unpack_from(buf, 0)
    if magic != MAGIC:
        raise DamagedArrays("not an arrays file")
    if version != VERSION:
        raise DamagedArrays(f"version {version}, expected {VERSION}")
    body_at = _PREFIX.size + head_len
    if body_at > len(buf):
        raise DamagedArrays("truncated header")
    try:
        header = json.loads(bytes(buf[_PREFIX.size:body_at]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise DamagedArrays(f"unreadable header: {error}") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        raise DamagedArrays("unreadable header")
    size = body_at + header.get("body_size", -1) + _FOOTER.size
    if size != len(buf):
        raise DamagedArrays(f"{len(buf)} bytes, the header says {size}")
    return header, body_at


class SegmentArrays:
    """One segment's arrays, read-only (memory-mapped when from a file)."""

    def __init__(self, header: dict, arrays: dict[str, np.ndarray], path: Path | None = None):
        self.header = header
        self.path = path
        self.segment_id: str = header["segment"]
        self.doc_count: int = header["doc_count"]
        self.field_length: int = header["field_length"]
        self.term_ptr = arrays["term_ptr"]
        self.docs = arrays["docs"]
        self.freqs = arrays["freqs"]
        self.pos_ptr = arrays["pos_ptr"]
        self.positions = arrays["positions"]
        self.lengths = arrays["lengths"]
        self.fingerprints = arrays["fingerprints"]
        self.codes = {f: arrays[f"{f}_codes"] for f in CODED_FIELDS}
        self._names_blobs = {f: arrays[f"{f}_names"] for f in CODED_FIELDS}
        self._terms_blob = arrays["terms"]
        # A snapshot file stores its term table (indexer.snapshot); a
        # segment's is made from its words on first use.
        self._tables = {name: arrays[name] for name in TABLE_ARRAYS if name in arrays}
        self._terms: SortedTerms | None = None
        self._names: dict[str, list] = {}
        self._lock = threading.Lock()

    @property
    def terms(self) -> SortedTerms:
        """The words, looked up by ``np.searchsorted`` (no per-process dict)."""
        found = self._terms
        if found is None:
            with self._lock:
                if self._terms is None:
                    try:
                        self._terms = SortedTerms(self._terms_blob, self.header["terms"],
                                                  self._tables)
                    except UnsortedTerms as error:
                        raise DamagedArrays(str(error)) from None
                found = self._terms
        assert found is not None
        return found

    def postings(self, word: str) -> tuple[int, int]:
        """The slice ``[start, end)`` of ``word``'s postings (empty when absent)."""
        i = self.terms.find(word)
        if i < 0:
            return 0, 0
        return int(self.term_ptr[i]), int(self.term_ptr[i + 1])

    def names(self, fieldname: str) -> list[str]:
        """The sorted values of a coded field; code ``i`` is ``names(f)[i]``."""
        found = self._names.get(fieldname)
        if found is None:
            found = _split(self._names_blobs[fieldname], self.header["vocabularies"][fieldname])
            self._names[fieldname] = found
        return found

    def names_bytes(self, fieldname: str) -> list[bytes]:
        """``names(fieldname)`` as UTF-8, the order Whoosh compares them in."""
        found = self._names.get("\0" + fieldname)
        if found is None:
            found = [n.encode("utf-8") for n in self.names(fieldname)]
            self._names["\0" + fieldname] = found
        return found

    def nbytes(self) -> int:
        return self.header["body_size"]


def _split(blob: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    words = bytes(blob).decode("utf-8").split("\0")
    if len(words) != count:
        raise DamagedArrays(f"{len(words)} names, the header says {count}")
    return words


def _views(buf, header: dict, body_at: int) -> dict[str, np.ndarray]:
    arrays = {}
    for name, (dtype, offset, size) in header["arrays"].items():
        dt = np.dtype(dtype)
        start = body_at + offset
        if start + dt.itemsize * size > len(buf) - _FOOTER.size:
            raise DamagedArrays(f"array {name} runs past the end")
        arrays[name] = np.frombuffer(buf, dtype=dt, count=size, offset=start)
    missing = {"term_ptr", "docs", "freqs", "pos_ptr", "positions", "lengths", "fingerprints",
               "terms"} - set(arrays)
    missing |= {f"{f}_{k}" for f in CODED_FIELDS for k in ("codes", "names")} - set(arrays)
    if missing:
        raise DamagedArrays(f"no array {sorted(missing)[0]}")
    return arrays


def _validate(header: dict, arrays: dict[str, np.ndarray], expect: dict | None) -> None:
    """Raise DamagedArrays unless the arrays agree with themselves and the segment."""
    if expect:
        for key, value in expect.items():
            if header.get(key) != value:
                raise DamagedArrays(f"{key} is {header.get(key)!r}, the segment says {value!r}")
    docs, ptr = arrays["docs"], arrays["term_ptr"]
    n_docs = header["doc_count"]
    if len(ptr) != header["terms"] + 1 or (len(ptr) and (ptr[0] != 0 or ptr[-1] != len(docs))):
        raise DamagedArrays("term pointers do not cover the postings")
    if len(arrays["freqs"]) != len(docs) or len(arrays["pos_ptr"]) != len(docs) + 1:
        raise DamagedArrays("posting arrays differ in length")
    if arrays["pos_ptr"][-1] != len(arrays["positions"]):
        raise DamagedArrays("position pointers do not cover the positions")
    if len(arrays["lengths"]) != n_docs or len(arrays["fingerprints"]) != n_docs or any(
            len(arrays[f"{f}_codes"]) != n_docs for f in CODED_FIELDS):
        raise DamagedArrays("per-document arrays do not have one value per document")
    if len(docs) and (int(docs.min()) < 0 or int(docs.max()) >= n_docs):
        raise DamagedArrays("a document number out of range")


def load_file(path: Path, expect: dict | None = None) -> SegmentArrays:
    """Map an arrays file read-only: its CRC-32 first (of the whole file),
    then its header, size and arrays; anything wrong is :class:`DamagedArrays`."""
    try:
        buf = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as error:  # an empty file cannot be mapped
        raise DamagedArrays(f"cannot map it: {error}") from None
    # The version is read before the checksum so that a file of an older
    # format says so (it has no footer, and is rebuilt either way).
    magic, version, _ = _PREFIX.unpack(bytes(buf[:_PREFIX.size]).ljust(_PREFIX.size, b"\0"))
    if magic == MAGIC and version != VERSION:
        raise DamagedArrays(f"version {version}, expected {VERSION}")
    _verify_footer(buf)
    header, body_at = _read_header(buf)
    try:
        arrays = _views(buf, header, body_at)
        _validate(header, arrays, expect)
        return SegmentArrays(header, arrays, path)
    except (KeyError, TypeError, ValueError) as error:
        # A well-checksummed file that a faulty writer made: still never read.
        if isinstance(error, DamagedArrays):
            raise
        raise DamagedArrays(f"unreadable header: {type(error).__name__}: {error}") from None


def from_memory(header: dict, arrays: dict[str, np.ndarray]) -> SegmentArrays:
    full = dict(header, version=VERSION, body_size=sum(a.nbytes for a in arrays.values()))
    return SegmentArrays(full, arrays)


# Postings per slice when merged positions are copied (bounds the temporaries).
_MERGE_SLICE = 1 << 18


def merged(parts: Sequence[SegmentArrays]) -> SegmentArrays:
    """The arrays of consecutive segments as one, in memory: document numbers
    as Whoosh's multi-segment reader numbers them (each segment after the
    ones before it), one posting list per word, coded fields recoded into
    the union of their sorted values.

    A query tree is walked once per segment, in Python; a full build with
    both cores leaves two segments, and walking one merged segment instead
    took the 68 benchmark queries from 3.03 to 2.09 ms on average (2022
    subset). No file changes: a new commit merges its own segments anew.

    >>> a = from_memory(*_toy(["劳模", "工会"], [[0, 1], [1]], 2))
    >>> b = from_memory(*_toy(["工会"], [[0]], 1))
    >>> m = merged([a, b])
    >>> {w: m.docs[slice(*m.postings(w))].tolist() for w in ("劳模", "工会")}
    {'劳模': [0, 1], '工会': [1, 2]}
    """
    if len(parts) == 1:
        return parts[0]
    return from_memory(*merge_arrays(parts))


def merge_arrays(parts: Sequence[SegmentArrays]) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of :func:`merged`; its words in byte order, as
    ``sorted()`` orders them (a :class:`~indexer.terms.SortedTerms` finds
    them by bisection)."""
    words_of = [_split(p._terms_blob, p.header["terms"]) for p in parts]
    every = sorted(set().union(*words_of))
    ids: dict[str, int] = dict(zip(every, range(len(every))))
    n_terms = len(ids)
    global_of = [np.fromiter((ids[w] for w in words), dtype=np.int64, count=len(words))
                 for words in words_of]
    # Each segment's list of a word goes right after the earlier segments'
    # lists of that word: a scatter, no sort (a stable argsort of the whole
    # folder's postings took 0.4 s).
    sizes = [np.diff(p.term_ptr).astype(np.int64) for p in parts]
    per_term = np.zeros(n_terms, dtype=np.int64)
    for g, s in zip(global_of, sizes):
        np.add.at(per_term, g, s)
    term_ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(per_term, out=term_ptr[1:])
    filled = term_ptr[:-1].copy()
    total = int(term_ptr[-1])
    docs = np.empty(total, dtype=np.int32)
    freqs = np.empty(total, dtype=np.uint32)
    counts = np.empty(total, dtype=np.uint32)  # positions per posting
    dests = []  # where each segment's postings go, in the segment's order
    offset = 0
    for p, g, s in zip(parts, global_of, sizes):
        dest = _ranges(filled[g], s)
        docs[dest] = p.docs + offset
        freqs[dest] = p.freqs
        counts[dest] = np.diff(p.pos_ptr)
        dests.append(dest)
        filled[g] += s
        offset += p.doc_count
    pos_ptr = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(counts, out=pos_ptr[1:])
    # Each segment's positions are copied to their new places a slice of
    # postings at a time: one gather over all of them made int64 index
    # arrays of every position at once (the whole folder's merge peaked at
    # 628 MB RSS for a 200 MB result).
    positions = np.empty(int(pos_ptr[-1]), dtype=np.result_type(*(p.positions for p in parts)))
    for p, dest in zip(parts, dests):
        for a in range(0, len(dest), _MERGE_SLICE):
            chunk = dest[a:a + _MERGE_SLICE]
            first, last = int(p.pos_ptr[a]), int(p.pos_ptr[a + len(chunk)])
            positions[_ranges(pos_ptr[chunk], counts[chunk].astype(np.int64))] = p.positions[first:last]
    del dests
    arrays: dict[str, np.ndarray] = {
        "term_ptr": term_ptr,
        "docs": docs,
        "freqs": freqs.astype(_smallest_uint(int(freqs.max()) if total else 0)),
        "pos_ptr": pos_ptr.astype(np.uint32 if pos_ptr[-1] < 2**32 else np.int64),
        "positions": positions.astype(_smallest_uint(int(positions.max()) if len(positions) else 0)),
        "lengths": np.concatenate([p.lengths for p in parts]),
        "fingerprints": np.concatenate([p.fingerprints for p in parts]),
        "terms": _blob(every),
    }
    vocabularies: dict[str, int] = {}
    header = {"segment": "+".join(p.segment_id for p in parts),
              "doc_count": offset, "field_length": sum(p.field_length for p in parts),
              "terms": n_terms, "vocabularies": vocabularies}
    for fieldname in CODED_FIELDS:
        # Sorted as Whoosh's lexicon is (UTF-8 bytes): ranges of dates bisect it.
        names = sorted({n for p in parts for n in p.names_bytes(fieldname)})
        code_of = {n: i for i, n in enumerate(names)}
        codes = []
        for p in parts:
            # One entry more, for code -1 (no value).
            table = np.array([code_of[n] for n in p.names_bytes(fieldname)] + [-1], dtype=np.int32)
            codes.append(table[p.codes[fieldname]])
        arrays[f"{fieldname}_codes"] = np.concatenate(codes)
        arrays[f"{fieldname}_names"] = _blob([n.decode("utf-8") for n in names])
        vocabularies[fieldname] = len(names)
    return header, arrays


def forget(segment_ids: Sequence[str], folder: str | Path | None) -> None:
    """Drop this process's mapping of these segments' arrays (merged into
    one, they are read no more): a page mapped stays counted in the
    process's RSS for as long as the mapping lives."""
    with _CACHE_LOCK:
        for segment_id in segment_ids:
            _CACHE.pop((str(folder), segment_id), None)


def _toy(words: list[str], postings: list[list[int]], doc_count: int
         ) -> tuple[dict, dict[str, np.ndarray]]:
    """A segment's header and arrays from words and their documents (one
    position each, every field uncoded): for the examples."""
    flat = [d for docs in postings for d in docs]
    arrays: dict[str, np.ndarray] = {"term_ptr": np.cumsum([0] + [len(d) for d in postings]).astype(np.int64),
              "docs": np.array(flat, dtype=np.int32),
              "freqs": np.ones(len(flat), dtype=np.uint8),
              "pos_ptr": np.arange(len(flat) + 1, dtype=np.int64),
              "positions": np.zeros(len(flat), dtype=np.uint8),
              "lengths": np.ones(doc_count, dtype=np.uint32),
              "fingerprints": np.zeros(doc_count, dtype=np.int64), "terms": _blob(words)}
    for fieldname in CODED_FIELDS:
        arrays[f"{fieldname}_codes"] = np.full(doc_count, -1, dtype=np.int32)
        arrays[f"{fieldname}_names"] = _blob([])
    header = {"segment": f"toy{len(words)}", "doc_count": doc_count,
              "field_length": doc_count, "terms": len(words),
              "vocabularies": {f: 0 for f in CODED_FIELDS}}
    return header, arrays


# -- opening: one copy per segment and process -----------------------------------

_CACHE: dict[tuple[str, str], SegmentArrays] = {}
_CACHE_LOCK = threading.Lock()
# Arrays of segments no longer open are dropped past this many entries.
_CACHE_SEGMENTS = 256


def expected(reader) -> dict:
    """What an arrays file of this segment reader must say about it."""
    return {"segment": reader.segment().segment_id(), "doc_count": reader.doc_count_all(),
            "field_length": int(reader.field_length(FIELD))}


def segment_arrays(reader, folder: str | Path | None) -> SegmentArrays:
    """The arrays of one Whoosh segment reader: mapped from beside the
    segment, or built and written there first when missing or damaged.

    ``folder`` None (or not writable) keeps them in memory only.
    """
    seg_id = reader.segment().segment_id()
    key = (str(folder), seg_id)
    found = _CACHE.get(key)
    if found is not None:
        return found
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _open_or_build(reader, Path(folder) if folder else None)
            if len(_CACHE) >= _CACHE_SEGMENTS:
                _CACHE.clear()
            _CACHE[key] = found
    return found


def _open_or_build(reader, folder: Path | None) -> SegmentArrays:
    expect = expected(reader)
    if folder is None:
        return from_memory(*build_arrays(reader))
    path = folder / file_name(expect["segment"])
    try:
        return load_file(path, expect)
    except FileNotFoundError:
        pass
    except DamagedArrays:
        pass  # rebuilt below, under the lock
    # One process builds a segment's arrays; the others wait for its file
    # instead of building too. The lock is one byte of the lock file per
    # segment, so that two segments are built at once (a lock on the whole
    # file made the two processes of build_missing take turns: 4.4-5.7 s
    # for the 2022 subset's two segments, 3.2-3.5 s at once). A POSIX
    # record lock ends when its process closes any handle of the file:
    # within a process, _CACHE_LOCK keeps to one build at a time.
    try:
        lock = open(folder / ".zharrays.lock", "a+b")
    except OSError:
        return from_memory(*build_arrays(reader))
    byte = zlib.crc32(expect["segment"].encode()) % (1 << 30)
    with lock:
        fcntl.lockf(lock, fcntl.LOCK_EX, 1, byte)
        try:
            try:
                return load_file(path, expect)
            except (FileNotFoundError, DamagedArrays):
                pass
            header, arrays = build_arrays(reader)
            try:
                write_file(path, encode(header, arrays))
            except OSError:
                return from_memory(header, arrays)
            return load_file(path, expect)
        finally:
            fcntl.lockf(lock, fcntl.LOCK_UN, 1, byte)


def build_missing(ix, folder: str | Path, procs: int = 1, attempts: int = 3) -> int:
    """Write the arrays of every segment of ``ix`` that has none; returns how many were built.

    Run after a commit, so that no search pays for it. With ``procs`` > 1
    the segments are built by that many forked processes at once: a full
    build with both cores leaves two segments of about equal size, whose
    arrays took 3.9 s one after the other on the 2022 subset. A segment
    merged away by another process's commit while this one read it is
    left, and the newest generation's segments are built instead.
    """
    built = 0
    for attempt in range(attempts):
        try:
            built += _build_missing_once(ix, folder, procs)
            break
        except SegmentGone:
            continue
    _remove_gone(ix, Path(folder))
    return built


def _remove_gone(ix, folder: Path) -> None:
    """Delete the arrays files of segments that the newest generation does
    not hold: a build that held a segment's files while another commit
    merged it away wrote them after Whoosh's clean-up had run. Listed
    before the table of contents is read, so that a file of a newer
    segment is never taken for one that is gone."""
    names = [p.name for p in folder.glob("*" + SUFFIX)]
    current = {file_name(segment.segment_id()) for segment in ix._segments()}
    for name in names:
        if name not in current:
            (folder / name).unlink(missing_ok=True)


def _build_missing_once(ix, folder: str | Path, procs: int) -> int:
    with ix.reader() as reader:
        missing = [leaf for leaf, _ in _leaves(reader)
                   if not (Path(folder) / file_name(leaf.segment().segment_id())).exists()]
        if procs > 1 and len(missing) > 1:
            jobs = [(ix.storage, ix.indexname, leaf.segment().segment_id(), str(folder))
                    for leaf in missing]
            context = multiprocessing.get_context("fork")
            with context.Pool(min(procs, len(jobs))) as pool:
                return sum(pool.map(_build_in_child, jobs, chunksize=1))
        for leaf in missing:
            segment_arrays(leaf, folder)
    return len(missing)


def _build_in_child(job: tuple) -> int:
    """One segment's arrays file, written by a forked process from a reader of
    its own (no file position shared with the parent); 0 when it failed,
    which leaves that segment's build to the first search."""
    storage, indexname, segment_id, folder = job
    try:
        with storage.open_index(indexname).reader() as reader:
            for leaf, _ in _leaves(reader):
                if leaf.segment().segment_id() == segment_id:
                    _open_or_build(leaf, Path(folder))
                    return 1
    except Exception:  # noqa: BLE001 - derived data: the parent goes on either way
        pass
    return 0


def build_after_commit(ix, folder: str | Path, procs: int = 1) -> None:
    """:func:`build_missing` after a commit; derived data, so no failure here
    (a full disk, a read-only index, a segment merged away by another
    process) changes what the commit reports: the build is left to the
    first search, and the failure is logged."""
    try:
        build_missing(ix, folder, procs)
        remove_stale_temporaries(folder)
        from indexer import snapshot  # it builds on this module

        snapshot.remove_stale(ix, folder)
    except Exception as error:  # noqa: BLE001 - the commit is durable whatever this raises
        _log.warning("search arrays not built after the commit (the first search builds them): "
                     "%s: %s", type(error).__name__, error)


def _leaves(reader):
    return reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]


# -- check ---------------------------------------------------------------------


@dataclass
class ArraysProblem:
    """What ``check`` found wrong with a segment's arrays file (always rebuildable)."""

    name: str
    description: str
    repaired: bool = False


def check(ix, folder: str | Path, repair: bool = False) -> list[ArraysProblem]:
    """Every segment's arrays file present, intact and in agreement with its segment.

    With ``repair``, a missing or damaged file is rebuilt and a file of a
    segment that is gone is deleted. Arrays are derived data: a problem here
    never means a lost document.
    """
    folder = Path(folder)
    problems: list[ArraysProblem] = []
    with ix.reader() as reader:
        current = set()
        for leaf, _ in _leaves(reader):
            expect = expected(leaf)
            name = file_name(expect["segment"])
            current.add(name)
            path = folder / name
            try:
                arrays = load_file(path, expect)
                _spot_check(arrays, leaf)
                continue
            except FileNotFoundError:
                problem = ArraysProblem(name, "missing (built on the next search)")
            except DamagedArrays as error:
                problem = ArraysProblem(name, f"damaged: {error}")
            if repair:
                with _CACHE_LOCK:
                    _CACHE.pop((str(folder), expect["segment"]), None)
                path.unlink(missing_ok=True)
                segment_arrays(leaf, folder)
                problem.repaired = True
            problems.append(problem)
    for path in sorted(folder.glob("*" + SUFFIX)):
        if path.name not in current:
            problem = ArraysProblem(path.name, "of a segment that is gone")
            if repair:
                path.unlink(missing_ok=True)
                problem.repaired = True
            problems.append(problem)
    return problems


def _spot_check(arrays: SegmentArrays, leaf, samples: int = 64) -> None:
    """Compare a few terms' postings and documents' fingerprints with the
    segment's own: a file can be intact and still not describe its segment."""
    step = max(1, arrays.doc_count // samples)
    for docnum in range(0, arrays.doc_count, step):
        doc = leaf.stored_fields(docnum)
        if arrays.fingerprints[docnum] != fingerprint(doc.get(FIELD), doc.get("kind")):
            raise DamagedArrays(f"the story fingerprint of document {docnum} differs from its text's")
    count = arrays.header["terms"]
    if not count:
        return
    words = _split(arrays._terms_blob, count)
    step = max(1, count // samples)
    fmt = leaf.schema[FIELD].format
    for i in range(0, count, step):
        word = words[i]
        start, end = int(arrays.term_ptr[i]), int(arrays.term_ptr[i + 1])
        whoosh_ids = _term_ids(leaf._terms, leaf._terms.term_info(FIELD, word.encode("utf-8")), fmt)
        if not np.array_equal(whoosh_ids, arrays.docs[start:end]):
            raise DamagedArrays(f"the postings of {word!r} differ from the segment's")


def remove_stale_temporaries(folder: str | Path, older_than: float = 3600.0) -> None:
    """Delete temporary files of builds that died (hidden, so Whoosh leaves them)."""
    now = time.time()
    for path in Path(folder).glob(".*" + SUFFIX + ".*.tmp"):
        try:
            if now - path.stat().st_mtime > older_than:
                path.unlink()
        except OSError:
            pass
