"""Serving on every core: gunicorn, one worker process per core.

One Python process cannot use two cores. Under gunicorn each worker is a
process of its own with a few threads; the index's arrays
(:mod:`indexer.postings`) are memory-mapped read-only, so every worker maps
the same pages of the page cache, and Whoosh's plain segment files are read
through it too. The master has loaded jieba's dictionary (opening the Store
does) before the workers fork; they share its pages until reference counts
dirty them. On the 2022 subset after the benchmark queries: master RSS
123 MB, each worker 220 MB; proportional set size 55 + 149 + 149 = 353 MB.

Gunicorn runs on Unix only; elsewhere (or without it) ``zhsearch serve``
falls back to waitress in one process (:mod:`web.server`); :mod:`web.launch`
chooses. This module sits above :mod:`web.server` and is imported by
nothing below it (setup.cfg's import contracts).

Gunicorn only manages the processes (forks, restarts, signals). Inside each
worker waitress answers (:class:`WaitressWorker`): its event loop reads every
request whole before a thread sees it, so a slow client costs a buffer, not
a thread. gunicorn's own gthread worker reads in the thread: 8 connections
sending a header line every 2 s stalled every search for 30 s (issue 19).
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import sys
import threading
import time
from typing import Any

from indexer import settings
from indexer.store import Store
from web.server import CONNECTION_LIMIT, make_app, waitress_server


def available() -> bool:
    """True where gunicorn can run (it needs fork, so not on Windows)."""
    if os.name != "posix":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Gunicorn's settings for ``zhsearch serve``.

    >>> options("127.0.0.1", 5000, 2, 4)["bind"]
    ['127.0.0.1:5000']
    """
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        # waitress in each worker reads requests in its event loop, whole,
        # then hands them to ``threads`` threads; the work itself is the
        # worker's one core.
        "worker_class": "web.prefork.WaitressWorker",
        "threads": threads,
        # A worker whose event loop stops this long is replaced.
        "timeout": 60,
        "graceful_timeout": 10,
        "loglevel": "warning",
        "accesslog": None,
        "proc_name": "zhsearch",
    }


def serve(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
          workers: int | None = None) -> None:
    """Serve the app under gunicorn until Ctrl+C: ``workers`` processes
    (one per core by default) sharing ``threads`` threads between them."""
    from gunicorn.app.base import BaseApplication

    count = workers or cores()
    per_worker = max(2, -(-threads // count))
    # The settings are read once, here, as create_app reads them: every
    # worker gets the same config.
    config = settings.flask_config(settings.from_env())
    # The key signs the upload form's CSRF token: ZHSEARCH_SECRET_KEY when
    # set, so an open form stays valid across restarts (a fresh key here
    # refused every form served before the restart with 400); otherwise
    # one random key for every worker, since a form served by one worker is
    # posted to another.
    config.setdefault("SECRET_KEY", secrets.token_hex(32))

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in options(host, port, count, per_worker).items():
                self.cfg.set(key, value)

        def load(self):
            # In each worker, after the fork: no searcher or file is shared.
            return make_app(store, {**config, "HOST": host,
                                    # Another worker may have committed an upload:
                                    # look for a newer commit on every request (a
                                    # directory listing, ~30 us), so that an added
                                    # file is found on the very next request
                                    # whichever worker answers it.
                                    "REFRESH_SECONDS": 0.0})

    from web.engine import before_fork

    before_fork(store)
    Application().run()


try:  # gunicorn runs on Unix only; there the worker class below is used
    from gunicorn.workers.base import Worker as _GunicornWorker
except ImportError:  # pragma: no cover - Windows
    _GunicornWorker = object  # type: ignore[assignment,misc]


class WaitressWorker(_GunicornWorker):  # type: ignore[misc,valid-type]
    """A gunicorn worker that serves with waitress on gunicorn's listening
    socket: waitress buffers each request (headers, then the body, past
    512 KB in a temporary file) in its event loop and gives a thread only
    complete requests; headers must arrive within
    :data:`web.server.HEADER_SECONDS`, and a connection silent for
    :data:`web.server.IDLE_SECONDS` is closed."""

    def run(self) -> None:
        # Each open connection is a descriptor: allow the connection limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = CONNECTION_LIMIT + 100
        if soft != resource.RLIM_INFINITY and soft < wanted:
            limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        server = waitress_server(self.wsgi, self.cfg.threads,
                                 sockets=[listener.sock for listener in self.sockets])
        threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
        # The index opened and the master's snapshot mapped now, not by the
        # first request this worker happens to get.
        threading.Thread(target=self.wsgi.extensions["zhsearch"].warm, name="warm",
                         daemon=True).start()
        # Returns when a signal handler raises SystemExit (waitress then
        # stops its threads).
        server.run()

    def _heartbeat(self) -> None:
        # Tells the master this worker lives, and stops it when the master is gone.
        while self.alive:
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            self.notify()
            time.sleep(max(1.0, self.timeout / 4))

    def handle_exit(self, sig: int, frame: Any) -> None:
        # SIGTERM: stop the event loop (gunicorn's base only clears ``alive``).
        self.alive = False
        sys.exit(0)
