"""Serving the app: the WSGI server and the headers every response carries."""

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


def make_server(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
                config: Mapping[str, Any] | None = None):
    """A waitress server for the app over ``store``; ``port=0`` picks a free port."""
    from waitress import create_server

    app = create_app(config, store=store)
    app.config["HOST"] = host
    return create_server(
        app, host=host, port=port, threads=threads, ident="zhsearch",
        # waitress would buffer up to 1 GB; past twice the upload limit it
        # answers 413 itself, below that the app answers with its own page.
        max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"],
    )


def serve(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8) -> None:
    """Serve the app with waitress until Ctrl+C (what `zhsearch serve` runs)."""
    make_server(store, host=host, port=port, threads=threads).run()
