"""Read report files in worker processes with a memory limit and a time limit.

Reading runs outside the calling process: Python's ``re`` and the PDF, Word
and HTML libraries hold the GIL for long stretches, so a file read in a
server thread stalls every search (a quadratic pattern froze the server for
27 s in issue 13), and a library that swallows gigabytes takes the whole
server down with it. A worker has ``RLIMIT_AS`` set, so such a file fails
with ``MemoryError`` in the worker alone, and a read that runs past the
time limit is stopped by killing the worker. Either way the file is refused
with its reason, and a fresh worker reads the next one.

:func:`read_report_isolated` has the contract of
:func:`indexer.readers.read_report`.
"""

from __future__ import annotations

import atexit
import importlib
import os
import queue
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from indexer.document import Article
from indexer.errors import UnsupportedFile

# The limits are settings (ZHSEARCH_READ_MEMORY_MB, default 2048: a worker
# starts at ~80 MB of address space with every reader loaded, and the
# hostile files of issue 13 wanted 3-8 GB without the reader limits;
# ZHSEARCH_READ_SECONDS, default 120: the largest file of the news folder
# reads in < 2 s; ZHSEARCH_READ_REQUEST_SECONDS, default 600, for all the
# files of one add or upload together: one upload may carry 1,000 files, each
# of which could otherwise use its own full time limit, 33 hours in all).
_STARTUP_SECONDS = 60.0
# Workers at once: reading is CPU-bound and the machines have 2 cores.
WORKERS = 2


def _limits() -> tuple[int, float, float]:
    from indexer.settings import from_env

    values = from_env()
    return (int(values["read_memory_mb"]), float(values["read_seconds"]),
            float(values["read_request_seconds"]))


class ReadBudget:
    """The time one request (one ``add``, one upload) may spend reading all its files.

    Only the time files spend in a worker counts, not writing them into the
    index between batches (a large ``add`` writes for minutes).

    >>> budget = ReadBudget(600)
    >>> budget.charge(599.5)
    >>> budget.remaining()
    0.5
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.used = 0.0

    def remaining(self) -> float:
        return self.seconds - self.used

    def charge(self, seconds: float) -> None:
        self.used += seconds

    def spent(self, name: str) -> UnsupportedFile:
        """The refusal of ``name``, a file the budget had no time left for."""
        return UnsupportedFile(
            name, f"not read: the files of this request used up the {self.seconds:g} s "
                  "they may take to read together; add it again on its own",
            code="read_budget")


def _serve(rx: Connection, tx: Connection, memory_mb: int) -> None:
    """The worker: read the files that come over ``rx`` until it closes."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from indexer.readers import _READER_MODULES, read_report

    for module in set(_READER_MODULES.values()):  # paid once, not on a first upload
        importlib.import_module(f"indexer.readers.{module}")
    tx.send(("ready",))
    while True:
        try:
            data, name = rx.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            tx.send(("ok", read_report(data, name)))
        except UnsupportedFile as error:
            tx.send(("refused", error.reason, error.code))
        except MemoryError:
            # The heap may be in any state now: answer, then make way for a fresh worker.
            del data
            tx.send(("memory", "", ""))
            return


class _Worker:
    """One worker: ``python -m indexer.readers.worker``, talking over two pipes.

    A process of its own (not multiprocessing's spawn, which re-imports the
    caller's main script, nor fork, which copies a server's threads' locks).
    """

    def __init__(self, memory_mb: int):
        from_parent, to_child = os.pipe()
        from_child, to_parent = os.pipe()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from indexer.readers.worker import main; main()",
                 str(from_parent), str(to_parent), str(memory_mb)],
                pass_fds=(from_parent, to_parent), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env)
        finally:
            os.close(from_parent)
            os.close(to_parent)
        self.tx = Connection(to_child, readable=False)
        self.rx = Connection(from_child, writable=False)
        # Started (~1 s of imports) before the clock of a first read runs.
        try:
            ready = self.rx.poll(_STARTUP_SECONDS) and self.rx.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise RuntimeError("the report reader process did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        self.tx.close()
        self.rx.close()


class ReaderPool:
    """Worker processes shared by the threads of one process."""

    def __init__(self, memory_mb: int, seconds: float, request_seconds: float = 600.0,
                 workers: int = WORKERS):
        self.memory_mb = memory_mb
        self.seconds = seconds
        self.request_seconds = request_seconds
        # Last in, first out: the worker just used is warm; another slot's
        # worker is started only when two files are read at once.
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._idle.put(None)  # started when first needed
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_mb)
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def budget(self) -> ReadBudget:
        """A fresh budget for the files of one request."""
        return ReadBudget(self.request_seconds)

    def read(self, data: bytes, name: str, budget: ReadBudget | None = None) -> list[Article]:
        """``read_report(data, name)`` in a worker; refuses a file that runs out
        of time or memory there, or that ``budget`` has no time left for."""
        seconds, by_budget = self.seconds, False
        if budget is not None:
            left = budget.remaining()
            if left <= 0:
                raise budget.spent(name)
            seconds, by_budget = min(seconds, left), left < seconds
        worker = self._idle.get()
        if worker is None:
            try:
                worker = self._start()
            except OSError:
                # No process can be started here (a sandbox without subprocesses):
                # read in this process, with the reader limits alone.
                self._idle.put(None)
                from indexer.readers import read_report
                return read_report(data, name)
            except RuntimeError:
                # It started and died, or never said it was ready: with too low a
                # memory limit (30 MB) it cannot import the readers. Reading here
                # instead would read without any memory limit at all.
                self._idle.put(None)
                raise UnsupportedFile(
                    name, f"not read: the process that reads report files did not start "
                          f"within {self.memory_mb} MB of memory (ZHSEARCH_READ_MEMORY_MB)",
                    code="reader_unavailable") from None
        healthy = False
        started = time.monotonic()
        try:
            try:
                worker.tx.send((data, name))
                if not worker.rx.poll(seconds):
                    if by_budget and budget is not None:
                        raise budget.spent(name)
                    raise UnsupportedFile(
                        name, f"reading it took longer than {self.seconds:g} s; stopped",
                        code="read_timeout")
                status, *answer = worker.rx.recv()
            except (EOFError, OSError, BrokenPipeError):
                # The worker died (killed by the system, a crash in a library).
                raise UnsupportedFile(
                    name, f"reading it needed more than {self.memory_mb} MB of memory or "
                          "crashed the reader; stopped", code="read_memory") from None
            if status == "memory":
                raise UnsupportedFile(
                    name, f"reading it needed more than {self.memory_mb} MB of memory; stopped",
                    code="read_memory")
            if status == "refused":
                reason, code = answer
                # After a MemoryError the worker's heap may be in any state.
                healthy = code != "read_memory"
                raise UnsupportedFile(name, reason, code=code)
            healthy = True
            return answer[0]
        finally:
            if budget is not None:
                budget.charge(time.monotonic() - started)
            if not healthy:
                self._retire(worker)
                worker = None
            self._idle.put(worker)

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()


_pool: ReaderPool | None = None
_pool_lock = threading.Lock()


def pool() -> ReaderPool:
    """This process's reader pool, made with the configured limits on first use."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _set_pool(ReaderPool(*_limits()))
        return _pool  # type: ignore[return-value]


_pool_pid = os.getpid()


def _set_pool(new: ReaderPool) -> None:
    global _pool, _pool_pid
    _pool, _pool_pid = new, os.getpid()


def read_report_isolated(data: bytes, name: str,
                         budget: ReadBudget | None = None) -> list[Article]:
    """:func:`~indexer.readers.read_report` in a worker process with limits
    (and within ``budget``, the time left to the request it is part of)."""
    return pool().read(data, name, budget)


def read_budget() -> ReadBudget:
    """A budget of the configured time for reading the files of one request."""
    return pool().budget()


@atexit.register
def _shutdown() -> None:
    if _pool is not None and _pool_pid == os.getpid():
        _pool.close()


def main() -> None:
    """The worker process's entry: ``<read fd> <write fd> <memory MB>``."""
    _serve(Connection(int(sys.argv[1]), writable=False),
           Connection(int(sys.argv[2]), readable=False), int(sys.argv[3]))
