"""Markdown reports: one article per heading (``#``, ``##``, ``###``).

In the daily news files every story is a ``###`` heading under ``## 详细新闻``;
the deepest heading names the article and its parent heading is its section.
Paragraphs are separated by blank lines; hard-wrapped lines inside one are
joined as in plain text. Link-only lines (``[查看原文](…)``) are navigation
and are dropped.
"""

from __future__ import annotations

import re

from indexer.document import BODY, TITLE, Article, Passage
from indexer.readers.encoding import decode_text
from indexer.readers.plaintext import join_lines

# Python's re holds the GIL for a whole match, so one pattern that
# backtracks quadratically stops every server thread: "*a " * 40000 took
# 27 s with an unbounded emphasis span (4x per doubling). Here no repeat can
# run past the next delimiter of its kind ("[" or "]" in a link, the
# emphasis character in an emphasis), so each start scans only up to the
# next one: linear in the line, 300 KB of "*a " in 0.03 s (2.5 s with a span
# merely bounded to 300 characters).
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LINK_TEXT, _URL = r"[^\[\]\n]{0,500}", r"[^()\[\]\n]{0,1000}"
_IMAGE = re.compile(rf"!\[{_LINK_TEXT}\]\({_URL}\)")
_LINK = re.compile(rf"\[({_LINK_TEXT})\]\({_URL}\)")
_EMPHASIS = re.compile(
    r"(\*\*?)(?=[^\s*])([^*\n]{1,300})(?<=\S)\1"
    r"|(__?)(?=[^\s_])([^_\n]{1,300})(?<=\S)\3"
    r"|`(?=[^\s`])([^`\n]{1,300})(?<=\S)`")
_LINK_ONLY = re.compile(rf"^\s*(?:\[{_LINK_TEXT}\]\({_URL}\)[ \t]*)+$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|>)\s+")


def strip_inline_markup(text: str) -> str:
    """``**央视网消息**（新闻联播）`` -> ``央视网消息（新闻联播）``."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4) or m.group(5), text)
    return _LIST_MARK.sub("", text).strip()


def read(data: bytes, name: str) -> list[Article]:
    articles: list[Article] = []
    headings: dict[int, str] = {}
    article = Article()
    section = ""
    paragraph: list[str] = []

    def close_paragraph() -> None:
        if paragraph:
            text = strip_inline_markup(join_lines(paragraph))
            if text:
                article.passages.append(Passage(text, BODY, section))
            paragraph.clear()

    for line in decode_text(data, name).split("\n"):
        heading = _HEADING.match(line)
        if heading:
            close_paragraph()
            # A heading with nothing under it but sub-headings names no article.
            if article.has_body():
                articles.append(article)
            # The closing hashes of "## Title ##" (not a pattern: a lazy
            # title before optional hashes backtracks quadratically).
            title = heading.group(2).rstrip().rstrip("#").rstrip()
            level, title = len(heading.group(1)), strip_inline_markup(title)
            headings = {lvl: t for lvl, t in headings.items() if lvl < level}
            section = headings[max(headings)] if headings else ""
            headings[level] = title
            article = Article(title=title, passages=[Passage(title, TITLE, section)])
        elif not line.strip() or _LINK_ONLY.match(line):
            close_paragraph()
        else:
            paragraph.append(line.strip())
    close_paragraph()
    if article.has_body():
        articles.append(article)
    return articles
