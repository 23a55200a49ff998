"""Plain-text reports, including text copied off a newspaper page.

Such text is hard-wrapped at the column width, often with a blank line after
every line, so words and names are cut across lines. The reflow
(:mod:`indexer.readers.reflow`) rebuilds the real paragraphs from the layout
of the whole file; :func:`split_articles` groups them into articles at unit
headers (``肇庆市广宁县总工会：``) and titles.
"""

from __future__ import annotations

from indexer.document import BODY, BYLINE, HEADING, TITLE, Article, Passage, date_from_text
from indexer.readers.encoding import decode_text
from indexer.readers.reflow import (
    DATELINE,
    SALUTATION,
    UNIT,
    Block,
    display_width,
    join_lines,
    join_wrapped,
    reflow_paragraphs,
)

# Re-exported: the PDF, Word and Markdown readers import these from here.
__all__ = ["Block", "display_width", "join_lines", "join_wrapped", "read", "reflow_paragraphs",
           "split_articles"]


def split_articles(blocks: list[Block]) -> list[Article]:
    """Group blocks into articles.

    A unit header starts a new article once the current one has body text;
    headings before an article's first body paragraph make its title, later
    ones its section headings (consecutive heading lines form one heading).
    A date line sets the article's date and a salutation (``各基层工会：``)
    opens its text: neither is part of the title. Titles and headings stay
    searchable as passages of their own.
    """
    articles: list[Article] = []
    units: list[str] = []
    headlines: list[str] = []
    section = ""
    last_kind = None

    def start_article() -> Article:
        units.clear()
        headlines.clear()
        articles.append(Article())
        return articles[-1]

    article = start_article()
    for block in blocks:
        if block.kind == UNIT and article.has_body():
            article = start_article()
            section = ""
        if block.kind == UNIT or (block.kind == HEADING and not article.has_body()):
            (units if block.kind == UNIT else headlines).append(block.text.rstrip("：:"))
            unit = " ".join(units)
            headline = " ".join(headlines)
            article.title = f"{unit}：{headline}" if unit and headline else unit or headline
            article.passages.append(Passage(block.text, TITLE, page=block.page))
        elif block.kind == HEADING:
            section = f"{section} {block.text}" if last_kind == HEADING else block.text
            article.passages.append(Passage(block.text, HEADING, section, block.page))
        elif block.kind == DATELINE:
            # Shown with the bylines, above the text; the date is the article's.
            article.date = article.date or date_from_text(block.text)
            article.passages.append(Passage(block.text, BYLINE, section, block.page))
        else:
            kind = BODY if block.kind == SALUTATION else block.kind
            if kind == BYLINE:
                article.byline = block.text.strip("■●◆▲□★☆◎ \u3000")
            article.passages.append(Passage(block.text, kind, section, block.page))
        last_kind = block.kind
    return [a for a in articles if a.passages]


def read(data: bytes, name: str) -> list[Article]:
    return split_articles(reflow_paragraphs(decode_text(data, name)))
