"""The article view: a whole article with every match of the query marked."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from indexer.document import HEADER_KINDS, Kind
from indexer.records import ArticlePassage
from web.engine import get_engine

bp = Blueprint("article", __name__)


def split_header(passages: list[ArticlePassage]
                 ) -> tuple[list[ArticlePassage], list[ArticlePassage], list[ArticlePassage]]:
    """The leading title passages, the leading bylines, and the rest in order."""
    at = 0
    while at < len(passages) and passages[at].kind in HEADER_KINDS:
        at += 1
    lead = passages[:at]
    # A title part ending in a colon names the unit ("XX县总工会：") and reads
    # first, as in the article title the engine composes.
    titles = sorted((p for p in lead if p.kind == Kind.TITLE), key=lambda p: not is_kicker(p))
    return titles, [p for p in lead if p.kind == Kind.BYLINE], passages[at:]


def is_kicker(passage: ArticlePassage) -> bool:
    return passage.text.rstrip().endswith(("：", ":"))


@bp.get("/doc/<article_id>")
def show(article_id: str) -> str:
    q = request.args.get("q", "")
    # An unknown id raises UnknownArticle: a 404 page in errors.py.
    article = get_engine().service.article(article_id, q)
    titles, bylines, body = split_header(article.passages)
    return render_template("article.html", q=q, article=article, titles=titles,
                           bylines=bylines, body=body, is_kicker=is_kicker)
