"""The ``.zharrays`` file format: one Whoosh segment's postings and
per-document codes as aligned numpy arrays, and :class:`SegmentArrays`, the
read-only view of one.

The file, ``<index>_<segment id>.zharrays``, holds:

- the ``content`` field's postings: per term its document numbers (int32),
  term frequencies and word positions, in Whoosh's own term order;
- per document: the content field's length as Whoosh's scorer sees it (its
  one-byte approximation), the ``source``, ``date``, ``kind`` and
  ``article`` fields as integer codes into sorted vocabularies, and the
  passage's story fingerprint (:mod:`indexer.samestory`; 0: never folds).

Layout: a prefix (magic, version, header length), a JSON header naming each
array's dtype, offset and size, the arrays aligned to 64 bytes, and a footer
holding a CRC-32 of every byte before it (header included, as Lucene's
``CodecUtil`` footer does). It is written under a hidden temporary name and
renamed (Whoosh never touches names starting with a dot), and memory-mapped
read-only: several server processes share one copy through the page cache.
Anything wrong is :class:`DamagedArrays`; the file is then rebuilt from its
segment (:mod:`indexer.postings`), never trusted.

Building a segment's arrays is :mod:`indexer.arrays_build`; merging several
is :mod:`indexer.arrays_merge`.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

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


class DamagedArrays(ValueError):
    """An arrays file that cannot be used as it is; ``str()`` says why."""


def file_name(segment_id: str) -> str:
    """``MAIN_<segid>.zharrays``: Whoosh deletes it with its segment.

    >>> file_name("MAIN_abc123")
    'MAIN_abc123.zharrays'
    """
    return segment_id + SUFFIX


# -- helpers shared by the builders, the merge and the evaluation -------------------


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


def _smallest_uint(maximum: int) -> type:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if maximum <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


def postings_arrays(term_ptr: np.ndarray, docs: np.ndarray, freqs: np.ndarray,
                    pos_ptr: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    """The postings arrays of a ``.zharrays`` as the file keeps them: the
    smallest unsigned type for the frequencies and positions, 32-bit
    document numbers, 32-bit position pointers while they fit. Every builder
    (a segment written, read back or merged; a snapshot) finishes its arrays here.

    >>> a = postings_arrays(np.array([0, 2]), np.array([3, 4]), np.array([1, 300]),
    ...                     np.array([0, 1, 301]), np.arange(301))
    >>> [str(a[k].dtype) for k in ("docs", "freqs", "pos_ptr", "positions")]
    ['int32', 'uint16', 'uint32', 'uint16']
    """
    return {
        "term_ptr": np.asarray(term_ptr, dtype=np.int64),
        "docs": docs.astype(np.int32, copy=False),
        "freqs": freqs.astype(_smallest_uint(int(freqs.max()) if len(freqs) else 0), copy=False),
        "pos_ptr": pos_ptr.astype(np.uint32 if int(pos_ptr[-1]) < 2**32 else np.int64,
                                  copy=False),
        "positions": positions.astype(
            _smallest_uint(int(positions.max()) if len(positions) else 0), copy=False),
    }


def assemble(segment: str, doc_count: int, field_length: int, words: list[str],
             postings: dict[str, np.ndarray], lengths: np.ndarray, fingerprints: np.ndarray,
             coded: Mapping[str, tuple[Sequence[bytes], np.ndarray]]
             ) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of a ``.zharrays``, as :func:`encode` takes them:
    every builder (a segment written, read back or merged; a snapshot)
    hands its parts here. ``coded`` has, per field of CODED_FIELDS, its
    values in byte order and each document's code (-1: none); a field
    missing from it has no value in any document.

    >>> header, arrays = assemble("s", 2, 3, ["劳模"], {}, np.ones(2), np.zeros(2),
    ...                           {"source": ([b"a.md"], np.array([0, 0]))})
    >>> header["vocabularies"]["source"], arrays["article_codes"].tolist()
    (1, [-1, -1])
    """
    arrays: dict[str, np.ndarray] = {**postings, "lengths": lengths, "fingerprints": fingerprints,
                                     "terms": _blob(words)}
    vocabularies: dict[str, int] = {}
    header = {"segment": segment, "doc_count": doc_count, "field_length": field_length,
              "terms": len(words), "vocabularies": vocabularies}
    for name in CODED_FIELDS:
        names, codes = coded.get(name) or ((), np.full(doc_count, -1, dtype=np.int32))
        arrays[f"{name}_codes"] = codes
        arrays[f"{name}_names"] = _blob([b.decode("utf-8") for b in names])
        vocabularies[name] = len(names)
    return header, arrays


def _blob(strings: list[str]) -> np.ndarray:
    """Strings joined by NUL (never in a term, file name or date) as bytes."""
    return np.frombuffer("\0".join(strings).encode("utf-8"), dtype=np.uint8)


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
