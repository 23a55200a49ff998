"""Articles from a document outline: headings with levels, then text.

Shared by the readers of structured formats (.docx, HTML), whose headings
say their own level.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.document import BODY, HEADING, TITLE, Article, Kind, Passage


@dataclass
class Part:
    """One paragraph of a structured document, before articles are formed.

    ``level`` is None for text, 0 for the document title and 1-9 for a
    heading of that level.
    """

    text: str
    level: int | None = None
    kind: Kind = BODY


def group_articles(parts: list[Part]) -> list[Article]:
    """Articles from the parts of a structured document, in order.

    Every heading at the shallowest level used starts an article (as does the
    title, or a heading above that level); deeper headings become section
    headings of the current article. Text before any heading forms an
    article of its own, so nothing is dropped.
    """
    top = min((p.level for p in parts if p.level), default=None)
    articles: list[Article] = []
    article = Article()
    section = ""
    for part in parts:
        if part.level is not None and (part.level == 0 or (top is not None and part.level <= top)):
            if article.passages:
                articles.append(article)
            article = Article(title=part.text, passages=[Passage(part.text, TITLE)])
            section = ""
        elif part.level is not None:
            section = part.text
            article.passages.append(Passage(part.text, HEADING, section))
        else:
            article.passages.append(Passage(part.text, part.kind, section))
    if article.passages:
        articles.append(article)
    return articles
