"""The arrays file beside each Whoosh segment: opened once per process,
built after a commit, checked by ``check``.

Whoosh stays the store of record. For each of its segments one file of numpy
arrays, ``<index>_<segment id>.zharrays``, holds what a query reads. Its
format is :mod:`indexer.arrays_format`, how it is built from a segment
:mod:`indexer.arrays_build`, how several are merged in memory
:mod:`indexer.arrays_merge`; this module decides when each happens.

A segment never changes once written but for deletions, which are read from
the Whoosh reader at query time, so the file is named by segment and a new
commit never invalidates it. Whoosh's own clean-up deletes every file named
``<index>_<segment id>.<anything>`` of a segment that is gone, so the arrays
leave with their segment. A missing, damaged or mismatching file is rebuilt
from the segment, never trusted.
"""

from __future__ import annotations

import errno
import fcntl
import os
import logging
import multiprocessing
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.arrays_build import SegmentGone, _term_ids, build_arrays
from indexer.arrays_format import (FIELD, SUFFIX, DamagedArrays, SegmentArrays, _split, encode,
                                   file_name, from_memory, load_file, write_file)
from indexer.samestory import fingerprint
from indexer.whoosh_internals import segments, terms_reader


_log = logging.getLogger(__name__)


def forget(segment_ids: Sequence[str], folder: str | Path | None) -> None:
    """Drop this process's mapping of these segments' arrays (merged into
    one, they are read no more): a page mapped stays counted in the
    process's RSS for as long as the mapping lives."""
    with _CACHE_LOCK:
        for segment_id in segment_ids:
            _CACHE.pop((str(folder), segment_id), None)


# -- opening: one copy per segment and process -----------------------------------

_CACHE: dict[tuple[str, str], SegmentArrays] = {}
_CACHE_LOCK = threading.Lock()
# Arrays of segments no longer open are dropped past this many entries.
_CACHE_SEGMENTS = 256
# How long a search waits for another process's build of a segment's arrays
# before it reads the segment itself: a build took 2-3 s per 25,000
# passages on a loaded machine, and a stopped process holds its lock for ever.
WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05


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
        if not lock_within(lock, byte, WAIT_SECONDS):
            # Another process's build did not end in time (stopped, or on a
            # far larger segment): this one reads the segment itself, into
            # memory, and leaves the file to that build.
            _log.warning("arrays of segment %s: another build held its lock over %.0f s; "
                         "built in memory", expect["segment"], WAIT_SECONDS)
            return from_memory(*build_arrays(reader))
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
            if _segment_gone(folder, expect["segment"]):
                # Merged away while this was built: Whoosh's clean-up of
                # the segment's files (its .zharrays among them) ran
                # before the file existed, and nothing else would remove it
                # (check found it, an orphan, after a soak run).
                path.unlink(missing_ok=True)
                return from_memory(header, arrays)
            return load_file(path, expect)
        finally:
            fcntl.lockf(lock, fcntl.LOCK_UN, 1, byte)


def lock_within(lock, byte: int, wait: float) -> bool:
    """Take one byte's POSIX record lock of ``lock``, waiting at most ``wait``
    seconds for another process that holds it; False when it did not come."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, byte)
            return True
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)


def _segment_gone(folder: Path, segment_id: str) -> bool:
    """True when no file of the segment but its arrays is left in ``folder``."""
    prefix, arrays = f"{segment_id}.", file_name(segment_id)
    try:
        with os.scandir(folder) as listing:
            return not any(e.name.startswith(prefix) and e.name != arrays for e in listing)
    except OSError:
        return False


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
    for _ in range(attempts):
        try:
            built += _build_missing_once(ix, folder, procs)
            break
        except SegmentGone:
            continue
    _remove_gone(ix, Path(folder))
    return built


def _remove_gone(ix, folder: Path) -> None:
    """Delete the arrays files of segments that are gone: not in the newest
    generation and without a file of their own left (:func:`_segment_gone`).
    A build that held a segment's files while another commit merged it away
    wrote them after Whoosh's clean-up had run. A segment another writer
    has written but not committed yet (a bulk part, a merged segment) is
    not in the table of contents either, and its arrays stay: removing them
    cost its first search a rebuild. Listed before the table of contents is
    read, so that a file of a newer segment is never taken for one that is gone."""
    names = [p.name for p in folder.glob("*" + SUFFIX)]
    current = {file_name(segment.segment_id()) for segment in segments(ix)}
    for name in names:
        if name not in current and _segment_gone(folder, name[:-len(SUFFIX)]):
            (folder / name).unlink(missing_ok=True)


def _build_missing_once(ix, folder: str | Path, procs: int) -> int:
    with ix.reader() as reader:
        missing = [leaf for leaf, _ in leaves(reader)
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
            for leaf, _ in leaves(reader):
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
    except Exception as error:  # noqa: BLE001 - the commit is durable whatever this raises
        _log.warning("search arrays not built after the commit (the first search builds them): "
                     "%s: %s", type(error).__name__, error)


def leaves(reader) -> list:
    """Each segment reader of ``reader`` with the document number it starts
    at: Whoosh's ``leaf_readers()``, or the reader itself when it reads one
    segment."""
    return reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]


def segments_of(reader) -> tuple[tuple[str, int], ...]:
    """The segments ``reader`` reads, each with its deletions: what one set of
    arrays, one snapshot and one commit's Generation are kept for."""
    return tuple((leaf.segment().segment_id(), leaf.segment().deleted_count())
                 for leaf, _ in leaves(reader) if hasattr(leaf, "segment"))


# -- check ---------------------------------------------------------------------


@dataclass
class DerivedProblem:
    """What ``check`` found wrong with a derived file, a segment's arrays or
    the snapshot of a generation (:mod:`indexer.snapshot`): always rebuildable."""

    name: str
    description: str
    repaired: bool = False


def check(ix, folder: str | Path, repair: bool = False) -> list[DerivedProblem]:
    """Every segment's arrays file present, intact and in agreement with its segment.

    With ``repair``, a missing or damaged file is rebuilt and a file of a
    segment that is gone is deleted. Arrays are derived data: a problem here
    never means a lost document.
    """
    folder = Path(folder)
    problems: list[DerivedProblem] = []
    with ix.reader() as reader:
        current = set()
        for leaf, _ in leaves(reader):
            expect = expected(leaf)
            name = file_name(expect["segment"])
            current.add(name)
            path = folder / name
            try:
                arrays = load_file(path, expect)
                _spot_check(arrays, leaf)
                continue
            except FileNotFoundError:
                problem = DerivedProblem(name, "missing (built on the next search)")
            except DamagedArrays as error:
                problem = DerivedProblem(name, f"damaged: {error}")
            if repair:
                forget([expect["segment"]], folder)
                path.unlink(missing_ok=True)
                segment_arrays(leaf, folder)
                problem.repaired = True
            problems.append(problem)
    for path in sorted(folder.glob("*" + SUFFIX)):
        if path.name not in current:
            problem = DerivedProblem(path.name, "of a segment that is gone")
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
    terms = terms_reader(leaf)
    for i in range(0, count, step):
        word = words[i]
        start, end = int(arrays.term_ptr[i]), int(arrays.term_ptr[i + 1])
        whoosh_ids = _term_ids(terms, terms.term_info(FIELD, word.encode("utf-8")), fmt)
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
