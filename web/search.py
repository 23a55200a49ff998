"""The home page and the result page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from indexer.query import MAX_QUERY_CHARS, MAX_TERMS
from web.engine import get_engine
from web.params import Pager, lenient_page, parse_filters

bp = Blueprint("search", __name__)

# Characters of the query repeated in each link of a result page.
MAX_LINK_QUERY = 200


@bp.get("/")
def index() -> str:
    return render_template("index.html", summary=get_engine().summary())


@bp.get("/search")
def results():
    q = request.args.get("q", "")
    if not q.strip():
        return redirect(url_for("search.index"))
    # The page shows one hit per article unless asked for every passage, and
    # a story other reports carry too once, unless asked for every copy.
    filters = parse_filters(request.args, group_default="article", fold_default="same")
    page = lenient_page(request.args)
    per_page = current_app.config["PAGE_SIZE"]
    engine = get_engine()
    # A QueryError (a bad date, an unknown source) becomes a 400 page in errors.py.
    result = engine.service.search(filters.request(q, page, per_page))
    # The query goes into every result and page link: a 25,000-character
    # query made a 4.7 MB page. The engine reads at most 32 terms of it anyway.
    return render_template("search.html", q=q, link_q=q[:MAX_LINK_QUERY], result=result,
                           filters=filters,
                           pager=Pager(page, result.total, per_page),
                           summary=engine.summary(),
                           max_query_chars=MAX_QUERY_CHARS, max_terms=MAX_TERMS)
