"""Plain-text reports, including text copied off a newspaper page.

Such text is hard-wrapped at the column width, often with a blank line after
every line, so words and names are cut across lines. The reflow
(:mod:`indexer.readers.reflow`) rebuilds the real paragraphs from the layout
of the whole file; :func:`split_articles` groups them into articles at unit
headers (``肇庆市广宁县总工会：``) and titles.
"""

from __future__ import annotations

from indexer.document import (BODY, BYLINE, HEADING, TITLE, Article, Kind, Passage,
                               date_from_text)
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


# A title is a headline with its unit header, kicker or subtitle: at most
# this many lines. More heading lines before any text are headings of the
# text, and consecutive heading lines join into one section heading up to
# this many too. (Unbounded, 20,000 short lines took 11.6 s and made a
# title of 148,889 characters.)
_TITLE_LINES = 4


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
    section_lines = 0
    last_kind: str | None = None  # a block kind: a passage kind, unit, dateline, salutation

    def start_article() -> Article:
        units.clear()
        headlines.clear()
        articles.append(Article())
        return articles[-1]

    article = start_article()
    has_body = False  # (kept here: Article.has_body() looks at every passage)
    for block in blocks:
        if block.kind == UNIT and has_body:
            article = start_article()
            section, has_body = "", False
        heads = units if block.kind == UNIT else headlines
        if block.kind in (UNIT, HEADING) and not has_body \
                and len(units) + len(headlines) < _TITLE_LINES:
            heads.append(block.text.rstrip("：:"))
            unit = " ".join(units)
            headline = " ".join(headlines)
            article.title = f"{unit}：{headline}" if unit and headline else unit or headline
            article.passages.append(Passage(block.text, TITLE, page=block.page))
        elif block.kind in (UNIT, HEADING):
            joined = last_kind == HEADING and section_lines < _TITLE_LINES
            section = f"{section} {block.text}" if joined else block.text
            section_lines = section_lines + 1 if joined else 1
            article.passages.append(Passage(block.text, HEADING, section, block.page))
            last_kind = HEADING
            continue
        elif block.kind == DATELINE:
            # Shown with the bylines, above the text; the date is the article's.
            article.date = article.date or date_from_text(block.text)
            article.passages.append(Passage(block.text, BYLINE, section, block.page))
        else:
            # What is left is body, byline or caption: passage kinds already.
            kind = BODY if block.kind == SALUTATION else Kind(block.kind)
            has_body = has_body or kind == BODY
            if kind == BYLINE:
                article.byline = block.text.strip("■●◆▲□★☆◎ \u3000")
            article.passages.append(Passage(block.text, kind, section, block.page))
        last_kind = block.kind
    return [a for a in articles if a.passages]


def read(data: bytes, name: str) -> list[Article]:
    return split_articles(reflow_paragraphs(decode_text(data, name)))
