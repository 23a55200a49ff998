"""Serving the app: the WSGI server and the headers every response carries.

``zhsearch serve`` runs gunicorn with one worker process per core where it
can (:mod:`web.prefork`), waitress in one process elsewhere and in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response

from indexer.store import Store
from web import create_app


def security_headers(response: Response) -> Response:
    # The pages use no script and no inline style: a strict policy costs
    # nothing and stops any markup that slipped through from running.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def make_app(store: Store, config: Mapping[str, Any] | None = None):
    """The app over ``store``."""
    return create_app(config, store=store)


def make_server(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
                config: Mapping[str, Any] | None = None):
    """A waitress server for the app over ``store``; ``port=0`` picks a free port."""
    from waitress import create_server

    app = make_app(store, config)
    app.config["HOST"] = host
    return create_server(
        app, host=host, port=port, threads=threads, ident="zhsearch",
        # waitress would buffer up to 1 GB; past twice the upload limit it
        # answers 413 itself, below that the app answers with its own page.
        max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"],
    )


def serve(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8) -> None:
    """Serve the app until Ctrl+C (what `zhsearch serve` runs): gunicorn
    with a worker per core, or waitress where gunicorn cannot run."""
    from web import prefork

    if prefork.available():
        prefork.serve(store, host=host, port=port, threads=threads)
    else:
        make_server(store, host=host, port=port, threads=threads).run()
