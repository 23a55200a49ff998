"""为什么匹配: the page (and JSON) that shows why a passage matched a query."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from indexer.messages import ZH
from web.engine import get_engine
from web.params import required_q

bp = Blueprint("explain", __name__)

def _explanation(passage_id: str):
    q = required_q(request.args)
    # An unknown id raises UnknownPassage: a 404 page (JSON under /api/) in errors.py.
    return q, get_engine().service.explain(q[:1000], passage_id)


@bp.get("/why/<passage_id>")
def page(passage_id: str) -> str:
    q, explanation = _explanation(passage_id)
    matched = {w for t in explanation.terms for w in t.matched}
    rules = {t.rule: ZH.text(f"rule {t.rule}") for t in explanation.terms}
    return render_template("explain.html", q=q, explanation=explanation, rules=rules,
                           matched=matched)


@bp.get("/api/explain/<passage_id>")
def api(passage_id: str) -> ResponseReturnValue:
    _, explanation = _explanation(passage_id)
    return jsonify(explanation.to_json())
