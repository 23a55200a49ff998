"""The JSON API and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from web.engine import get_engine
from web.params import int_arg, parse_filters, required_q

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> ResponseReturnValue:
    """The same object as `zhsearch search --json`; ``limit`` is capped, 0 means the cap."""
    q = required_q(request.args)
    page = int_arg(request.args, "page", 1, minimum=1)
    limit = int_arg(request.args, "limit", 10, minimum=0)
    cap = current_app.config["API_MAX_LIMIT"]
    # One request must not make the server render the whole corpus.
    limit = cap if limit == 0 or limit > cap else limit
    filters = parse_filters(request.args)
    # A QueryError becomes a JSON 400 in errors.py.
    result = get_engine().service.search(filters.request(q, page, limit))
    return jsonify(result.to_json())


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 while the index opens and answers; a broken index gives 503 (see errors)."""
    summary = get_engine().summary()
    return jsonify(status="ok", files=summary.files, passages=summary.passages)
