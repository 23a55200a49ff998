"""The zhsearch web app: ``create_app`` builds it (search page, article view, 报告 pages,
upload, export, JSON API); serving it is :mod:`web.launch`, which imports
this package and is imported by nothing in it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
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
        # Only builds: keeping the index current is `zhsearch serve`'s job
        # (or `zhsearch index`'s); a missing index is a 503 page until then.
        store = Store(app.config["CORPUS_DIR"], app.config["INDEX_DIR"],
                      lock_timeout=app.config["LOCK_TIMEOUT"])
    else:
        app.config["CORPUS_DIR"], app.config["INDEX_DIR"] = str(store.corpus_dir), str(store.index_dir)
    app.extensions["zhsearch"] = Engine(store, refresh_seconds=app.config["REFRESH_SECONDS"])

    csrf.init_app(app)

    from web import api, article, errors, explain, reports, search, upload

    for module in (search, article, explain, reports, upload, api, errors):
        app.register_blueprint(module.bp)
    app.context_processor(upload.template_globals)
    from web import security

    security.init_app(app)
    return app
