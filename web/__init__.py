"""The zhsearch web app: search page, article view, upload and JSON API."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

from indexer import settings
from indexer.settings import flask_config
from indexer.store import Store
from web.engine import Engine

EXAMPLE_QUERIES = ["劳模", "爱心托管", "工匠精神", "职工 服务"]

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None, *,
               store: Store | None = None) -> Flask:
    """Build the app over ``store`` or over CORPUS_DIR / INDEX_DIR from the config.

    Without ``test_config`` the settings come from ZHSEARCH_* environment variables.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        # Only signs the CSRF tokens of the upload form: a random key means a
        # restart asks whoever has the form open to reload it, nothing worse.
        SECRET_KEY=secrets.token_hex(32),
        EXAMPLE_QUERIES=EXAMPLE_QUERIES,
        # The defaults of indexer/settings.py; HOST is where the server listens.
        **flask_config(settings.from_env({})),
    )
    app.config.from_mapping(
        flask_config(settings.from_env()) if test_config is None else test_config)
    # The API answers with the same JSON as `zhsearch search --json`.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if store is None:
        store = Store(app.config["CORPUS_DIR"], app.config["INDEX_DIR"],
                      lock_timeout=app.config["LOCK_TIMEOUT"])
        if store.is_stale():
            store.sync()
    else:
        app.config["CORPUS_DIR"], app.config["INDEX_DIR"] = str(store.corpus_dir), str(store.index_dir)
    app.extensions["zhsearch"] = Engine(store)

    csrf.init_app(app)

    from web import api, article, errors, search, upload

    for module in (search, article, upload, api, errors):
        app.register_blueprint(module.bp)
    app.context_processor(upload.template_globals)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
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
