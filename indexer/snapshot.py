"""One snapshot of the search arrays per index generation, shared by every process.

A query walks its tree once per segment, so a long-lived server merges the
segments' arrays (:mod:`indexer.postings`) into one (the 68 benchmark
queries: 3.03 -> 2.09 ms on average). Each gunicorn worker used to merge
them into a private copy of its own: at the whole news folder (210,573
passages) a worker held ~270 MB PSS, and server memory grew with the
number of cores.

Now the merged arrays of a set of segments are written once, beside the
index, to ``snapshot_<hash>.zhsnap`` (74 MB at the whole folder), named
after the segments it covers (:func:`file_name`), in the ``.zharrays``
format with its whole-file CRC-32 footer (:func:`indexer.arrays_format.encode`).
Deletions are not part of the name: a deleted document stays in its
segment's postings until a merge, and is masked at query time from the
reader's deletions as before, so removing a report does not rewrite the
file. The file also holds the term table (:mod:`indexer.terms`): the
vocabulary as sorted arrays searched with ``np.searchsorted``, not a
per-process ``dict``.

A child process builds it (:func:`obtain`), under a POSIX record lock of
its own (``.zhsnap.lock``, one byte per snapshot; never Whoosh's writer
lock, so it blocks no write); a process that finds another's build under
way waits for its file. It is written under a hidden temporary name,
fsynced and renamed, and every process maps it read-only: the page cache
holds one copy. A file that fails its checksum, header or agreement with
its segments is never read: it is rebuilt. ``zhsearch serve`` builds it
before forking its workers (:func:`prepare`).

Derived data: ``zhsearch check`` verifies it (:func:`check`), the clean-up
after each commit removes the snapshots of other generations and the
temporary files of builds that died (:func:`after_commit`).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer import arrays_format, postings
from indexer.postings import DerivedProblem
from indexer.arrays_format import DamagedArrays, SegmentArrays
from indexer.arrays_merge import merge_arrays
from indexer.whoosh_internals import segments

SUFFIX = ".zhsnap"
PREFIX = "snapshot_"
LOCK_NAME = ".zhsnap.lock"
# A build took 3.9 s at the whole folder on a loaded machine; a process
# waits this long for another's before it goes on with the segments' arrays.
WAIT_SECONDS = 600.0
# One build at a time per process: a POSIX record lock is the process's,
# and closing any handle of the lock file releases all of them.
_BUILD_LOCK = threading.Lock()
# How many snapshots this process built, itself or by a child (the race
# test counts them).
builds = 0
# What the child process of _build_in_child says by its exit status.
BUILT, FOUND, GONE = 0, 3, 4

_log = logging.getLogger(__name__)


def file_name(segment_ids: Sequence[str]) -> str:
    """The snapshot file of these segments, in this order: never a name
    that Whoosh's clean-up (``<index>_<segment id>.*``, ``_<index>_N.toc``)
    takes for one of its own.

    >>> file_name(["MAIN_a", "MAIN_b"])
    'snapshot_550c5d389458adedbfc8.zhsnap'
    """
    digest = hashlib.sha256("\n".join(segment_ids).encode("utf-8")).hexdigest()[:20]
    return PREFIX + digest + SUFFIX


def expected(parts: Sequence[SegmentArrays]) -> dict:
    """What the snapshot of these segments' arrays must say about them."""
    return {"segment": "+".join(p.segment_id for p in parts),
            "doc_count": sum(p.doc_count for p in parts),
            "field_length": sum(p.field_length for p in parts)}


def build(parts: Sequence[SegmentArrays]) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of the snapshot of ``parts`` (two or more
    consecutive segments): their merged arrays and the term table."""
    header, arrays = merge_arrays(parts)
    terms = arrays_format.from_memory(header, arrays).terms
    arrays.update(terms.tables())
    header = dict(header, snapshot=True)
    return header, arrays


def load(path: Path, parts: Sequence[SegmentArrays] | dict) -> SegmentArrays:
    """Map a snapshot read-only, checked whole (:func:`indexer.arrays_format.load_file`)
    and against ``parts`` (or what :func:`expected` says of them); raises
    FileNotFoundError or DamagedArrays."""
    if not path.exists():
        raise FileNotFoundError(path)
    found = arrays_format.load_file(path, parts if isinstance(parts, dict) else expected(parts))
    if not found.header.get("snapshot"):
        raise DamagedArrays("not a snapshot")
    found.terms  # noqa: B018 - its tables checked now, not by a search
    return found


def mapped(folder: str | Path | None, leaves: Sequence[tuple]) -> SegmentArrays | None:
    """The snapshot of these ``(segment reader, offset)`` pairs when its file
    exists and is sound, mapped without reading the segments' own arrays;
    None otherwise (the caller starts from the segments')."""
    if folder is None or len(leaves) < 2:
        return None
    at = 0
    for reader, offset in leaves:
        if offset != at:
            return None
        at += reader.doc_count_all()
    readers = [reader for reader, _ in leaves]
    ids = [reader.segment().segment_id() for reader in readers]
    expect = {"segment": "+".join(ids), "doc_count": at,
              "field_length": sum(int(reader.field_length(arrays_format.FIELD)) for reader in readers)}
    try:
        return load(Path(folder) / file_name(ids), expect)
    except (FileNotFoundError, DamagedArrays):
        return None


def _lock_byte(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % (1 << 30)


def obtain(folder: Path | None, parts: Sequence[SegmentArrays],
           wait: float = WAIT_SECONDS, in_child: bool = True) -> SegmentArrays | None:
    """The snapshot of ``parts``: mapped from ``folder``, or built and
    written there first when missing or damaged, by a child process of this
    one (``in_child``) or by this process, or by another one it waits for.
    In memory only when the folder cannot be written; None when the build
    failed or another process's did not end within ``wait`` seconds (the
    caller goes on with the segments' own arrays).

    A child builds it so that the merge's memory leaves with the child: a
    server worker that merged in a thread kept ~70 MB of freed heap (its
    anonymous memory 200 MB where its peer's was 128 MB), and held the GIL
    its searches needed for the merge's Python steps.
    """
    global builds
    if folder is None:
        return arrays_format.from_memory(*build(parts))
    path = folder / file_name([p.segment_id for p in parts])
    try:
        return load(path, parts)
    except (FileNotFoundError, DamagedArrays):
        pass
    if in_child:
        outcome = _build_in_child(folder, [p.segment_id for p in parts], wait)
        if outcome is not None:
            if outcome == BUILT:
                builds += 1
            try:
                return load(path, parts)
            except (FileNotFoundError, DamagedArrays):
                return None
    return _obtain_here(folder, path, parts, wait)


def _obtain_here(folder: Path, path: Path, parts: Sequence[SegmentArrays],
                 wait: float) -> SegmentArrays | None:
    """:func:`obtain` in this process, under the lock."""
    global builds
    deadline = time.monotonic() + wait
    # Another thread's build (it holds the process's record lock) is waited
    # for no longer than another process's.
    if not _BUILD_LOCK.acquire(timeout=max(wait, 0.0)):
        return None
    try:
        try:
            lock = open(folder / LOCK_NAME, "a+b")
        except OSError:
            return arrays_format.from_memory(*build(parts))
        with lock:
            byte = _lock_byte(path.name)
            if not postings.lock_within(lock, byte, deadline - time.monotonic()):
                return None
            try:
                try:
                    return load(path, parts)  # built by the process this one waited for
                except FileNotFoundError:
                    pass
                except DamagedArrays as error:
                    _log.warning("search snapshot %s is damaged (%s): building it again",
                                 path.name, error)
                header, arrays = build(parts)
                builds += 1
                try:
                    arrays_format.write_file(path, arrays_format.encode(header, arrays))
                except OSError:
                    return arrays_format.from_memory(header, arrays)
                del arrays  # the mapped file replaces this private copy
                loaded = load(path, parts)
                _drop_if_superseded(folder, path)
                return loaded
            finally:
                fcntl.lockf(lock, fcntl.LOCK_UN, 1, byte)
    finally:
        _BUILD_LOCK.release()


def _drop_if_superseded(folder: Path, path: Path) -> None:
    """Remove the snapshot just written at ``path`` when a commit made
    another generation the newest while it was built: that commit's clean-up
    (:func:`after_commit`) may have run before the file existed, and
    ``check`` would then find a snapshot of an older generation. A process
    that mapped it keeps its mapping."""
    from whoosh import index as whoosh_index

    try:
        current = _current(whoosh_index.open_dir(str(folder)))
    except Exception as error:  # noqa: BLE001 - derived data: left for the next clean-up
        _log.warning("search snapshot %s kept: the index did not open (%s)", path.name, error)
        return
    if current != path.name:
        path.unlink(missing_ok=True)


def _build_in_child(folder: Path, segment_ids: Sequence[str] | None,
                    wait: float = WAIT_SECONDS) -> int | None:
    """Run :func:`_main` with ``FOLDER [SEGMENT...]`` in a new Python: the snapshot
    of the index's newest generation, built under the lock (or found built)
    in a process of its own. Its exit status (:data:`BUILT`, :data:`FOUND`,
    :data:`GONE` when the newest generation has other segments, else a
    failure, logged), or None when no child could be started."""
    if not sys.executable:
        return None
    env = dict(os.environ)
    # This very package, whether installed or run from a checkout.
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _CHILD, str(folder), *(segment_ids or [])]
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=wait + 60)
    except OSError:
        return None
    except subprocess.TimeoutExpired:
        _log.warning("search snapshot not built in %.0f s; the segments' arrays answer", wait)
        return -1
    if done.returncode not in (BUILT, FOUND, GONE):
        _log.warning("search snapshot not built (exit %s): %s", done.returncode,
                     done.stderr.decode("utf-8", "replace")[-2000:].strip())
    return done.returncode


_CHILD = "import sys; from indexer.snapshot import _main; sys.exit(_main(sys.argv[1:]))"


def prepare(folder: str | Path) -> int | None:
    """Build the snapshot of the newest generation now, when it has none,
    in a child process: a server's master does so before it forks its
    workers, so that they map it from their first search. Returns the
    child's exit status (:func:`_build_in_child`)."""
    return _build_in_child(Path(folder), None)


def _main(argv: Sequence[str]) -> int:
    """The child of :func:`_build_in_child`."""
    from whoosh import index as whoosh_index

    folder, wanted = Path(argv[0]), list(argv[1:])
    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as reader:
        leaves = postings.leaves(reader)
        ids = [leaf.segment().segment_id() for leaf, _ in leaves]
        if (wanted and ids != wanted) or len(ids) < 2:
            return GONE
        parts = [postings.segment_arrays(leaf, folder) for leaf, _ in leaves]
        before = builds
        found = _obtain_here(folder, folder / file_name(ids), parts, WAIT_SECONDS)
        if found is None:
            return 1
        return BUILT if builds > before else FOUND


# -- clean-up and check ------------------------------------------------------------


def _current(ix) -> str | None:
    """The snapshot file name of ``ix``'s newest generation (None: one segment)."""
    ids = [segment.segment_id() for segment in segments(ix)]
    return file_name(ids) if len(ids) > 1 else None


def remove_stale(ix, folder: str | Path, older_than: float = 3600.0) -> list[str]:
    """Delete the snapshots of every generation but the newest, and the
    temporary files of builds that died over ``older_than`` seconds ago;
    returns the names deleted. Listed before the table of contents is read,
    so that a snapshot of a newer commit is never taken for a stale one. A
    process still mapping a deleted snapshot reads on (Unix keeps a mapped
    file until it is unmapped)."""
    folder = Path(folder)
    names = [p.name for p in folder.glob(PREFIX + "*" + SUFFIX)]
    current = _current(ix)
    removed = []
    for name in names:
        if name != current:
            (folder / name).unlink(missing_ok=True)
            removed.append(name)
    now = time.time()
    for path in folder.glob("." + PREFIX + "*" + SUFFIX + ".*.tmp"):
        try:
            if now - path.stat().st_mtime > older_than:
                path.unlink()
                removed.append(path.name)
        except OSError:
            pass
    return removed


def after_commit(ix, folder: str | Path) -> None:
    """:func:`remove_stale` after a commit; derived data, so no failure here
    changes what the commit reports: it is logged."""
    try:
        remove_stale(ix, folder)
    except Exception as error:  # noqa: BLE001 - the commit is durable whatever this raises
        _log.warning("stale search snapshots not removed after the commit: %s: %s",
                     type(error).__name__, error)


def check(ix, folder: str | Path, repair: bool = False) -> list[DerivedProblem]:
    """The snapshot of the newest generation, when there is one, intact and
    in agreement with the segments' arrays; no snapshot of another generation.

    With ``repair``, a damaged snapshot is rebuilt and a stale one deleted.
    A missing snapshot is no problem: the server builds it.
    """
    folder = Path(folder)
    problems: list[DerivedProblem] = []
    names = sorted(p.name for p in folder.glob(PREFIX + "*" + SUFFIX))
    with ix.reader() as reader:
        leaves = postings.leaves(reader)
        current = file_name([leaf.segment().segment_id() for leaf, _ in leaves]) \
            if len(leaves) > 1 else None
        if current in names:
            parts = [postings.segment_arrays(leaf, folder) for leaf, _ in leaves]
            path = folder / current
            try:
                _spot_check(load(path, parts), parts)
            except (FileNotFoundError, DamagedArrays) as error:
                problem = DerivedProblem(current, f"damaged: {error}")
                if repair:
                    path.unlink(missing_ok=True)
                    obtain(folder, parts)
                    problem.repaired = True
                problems.append(problem)
    for name in names:
        if name != current:
            problem = DerivedProblem(name, "of an older generation")
            if repair:
                (folder / name).unlink(missing_ok=True)
                problem.repaired = True
            problems.append(problem)
    return problems


def _spot_check(snap: SegmentArrays, parts: Sequence[SegmentArrays], samples: int = 64) -> None:
    """Compare a few words' postings with the segments' own: a file can be
    intact and still not describe its segments."""
    count = len(snap.terms)
    step = max(1, count // samples)
    for i in range(0, count, step):
        word = snap.terms.word(i)
        start, end = snap.postings(word)
        ours = snap.docs[start:end]
        theirs, offset = [], 0
        for part in parts:
            a, b = part.postings(word)
            theirs.append(part.docs[a:b].astype(np.int64) + offset)
            offset += part.doc_count
        if not np.array_equal(ours, np.concatenate(theirs)):
            raise DamagedArrays(f"the postings of {word!r} differ from the segments'")
    at = 0
    for part in parts:
        if not np.array_equal(snap.fingerprints[at:at + part.doc_count], part.fingerprints):
            raise DamagedArrays("the story fingerprints differ from the segments'")
        at += part.doc_count

