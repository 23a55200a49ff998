"""为什么匹配: the page (and JSON) that shows why a passage matched a query."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from web.engine import get_engine
from web.params import required_q

bp = Blueprint("explain", __name__)

# Each rule of indexer/explain.py as a reader would say it.
RULES_ZH = {
    "word": "词语本身：段落里有这个词（几个词时，它们紧挨着）",
    "inside": "在更长的词里",
    "across": "跨越词语：分词把它切在了几个词之间，仍按原文找到",
    "apart": "分散出现：每个词都在，但不相邻",
    "synonym": "同义词或简称",
    "shared": "问题与段落共有的词（问句不要求每个词都出现）",
    "missing": "段落里没有（“或”的另一项，或放宽后的问句）",
}


def _explanation(passage_id: str):
    q = required_q(request.args)
    # An unknown id raises UnknownPassage: a 404 page (JSON under /api/) in errors.py.
    return q, get_engine().service.explain(q[:1000], passage_id)


@bp.get("/why/<passage_id>")
def page(passage_id: str) -> str:
    q, explanation = _explanation(passage_id)
    matched = {w for t in explanation.terms for w in t.matched}
    return render_template("explain.html", q=q, explanation=explanation, rules=RULES_ZH,
                           matched=matched)


@bp.get("/api/explain/<passage_id>")
def api(passage_id: str) -> ResponseReturnValue:
    _, explanation = _explanation(passage_id)
    return jsonify(explanation.to_json())
