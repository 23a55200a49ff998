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
falls back to waitress in one process (:mod:`web.server`).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from indexer.store import Store


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
        # Threads keep slow clients and keep-alive connections from holding
        # a whole worker; the work itself is the worker's one core.
        "worker_class": "gthread",
        "threads": threads,
        # A worker stuck this long on one request is replaced; a search
        # takes milliseconds.
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        # gunicorn's largest bound: a URL of 8 KB holds a query of 900
        # Chinese characters (percent-encoded, 9 bytes each).
        "limit_request_line": 8190,
        "loglevel": "warning",
        "accesslog": None,
        "proc_name": "zhsearch",
    }


def serve(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
          workers: int | None = None) -> None:
    """Serve the app under gunicorn until Ctrl+C: ``workers`` processes
    (one per core by default) sharing ``threads`` threads between them."""
    from gunicorn.app.base import BaseApplication

    from web.server import make_app

    count = workers or cores()
    per_worker = max(2, -(-threads // count))
    # One key for every worker: a form served by one worker is posted to
    # another (its CSRF token is signed with the key).
    secret = secrets.token_hex(32)

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in options(host, port, count, per_worker).items():
                self.cfg.set(key, value)

        def load(self):
            # In each worker, after the fork: no searcher or file is shared.
            from indexer import search

            # Another worker may have committed an upload: look for a newer
            # commit on every request (a directory listing, ~30 us), so that
            # an added file is found on the very next request whichever
            # worker answers it.
            search.REFRESH_SECONDS = 0.0
            app = make_app(store)
            app.config["SECRET_KEY"] = secret
            app.config["HOST"] = host
            return app

    Application().run()
