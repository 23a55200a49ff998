"""Readers turn a report file into articles; one module per format.

A reader is a function ``read(data: bytes, name: str) -> list[Article]``
registered here under the file suffixes it handles. It raises
:class:`UnsupportedFile` with a one-line reason for a file it cannot read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from indexer.document import Article, Passage
from indexer.errors import UnsupportedFile
from indexer.messages import wan
from indexer.normalize import remove_ignorable
from indexer.punctuation import PASSAGE_CUTS
from indexer.readers.articles import mark_digests, title_untitled

__all__ = ["UnsupportedFile", "is_supported", "quoted_limits", "read_report", "supported_suffixes"]

Reader = Callable[[bytes, str], list[Article]]


# Suffix -> reader module. Modules are imported when a file of theirs is
# read: the PDF and Word libraries take a third of a second to import, which
# a search that only lists the corpus should not pay.
_READER_MODULES = {
    ".txt": "plaintext", ".text": "plaintext",
    ".md": "markdown", ".markdown": "markdown",
    ".docx": "docx", ".pdf": "pdf",
    ".html": "html", ".htm": "html",
}


def _reader(suffix: str) -> Reader | None:
    module = _READER_MODULES.get(suffix)
    if module is None:
        return None
    return importlib.import_module(f"indexer.readers.{module}").read


def supported_suffixes() -> list[str]:
    return sorted(_READER_MODULES)


def quoted_limits() -> dict[str, str]:
    """What the texts of refusals quote (indexer/messages.py): the suffixes
    zhsearch reads and the reader limits. A front door passes them when it
    words a refusal by its code; the catalogue imports no reader.

    >>> quoted_limits()["max_pages"]
    '2,000'
    """
    from indexer.readers import limits

    return {"suffixes": " ".join(supported_suffixes()),
            "max_text_chars": wan(limits.MAX_TEXT_CHARS), "max_line_chars": wan(limits.MAX_LINE_CHARS),
            "max_lines": wan(limits.MAX_LINES), "max_paragraphs": wan(limits.MAX_PARAGRAPHS),
            "max_html_elements": wan(limits.MAX_HTML_ELEMENTS),
            "max_docx_pieces": wan(limits.MAX_DOCX_PIECES), "max_pages": f"{limits.MAX_PAGES:,}",
            "max_decompressed": limits.megabytes(limits.MAX_DECOMPRESSED_BYTES)}


def is_supported(path: str | Path) -> bool:
    return Path(path).suffix.lower() in _READER_MODULES


def read_report(data: bytes, name: str) -> list[Article]:
    """Read the bytes of the file called ``name`` into articles.

    Raises :class:`UnsupportedFile` when the format is unknown, the file is
    empty or damaged, or nothing searchable is in it.
    """
    reader = _reader(Path(name).suffix.lower())
    if reader is None:
        raise UnsupportedFile(
            name, "not a supported report format (use " + ", ".join(supported_suffixes()) + ")",
            code="unsupported_format")
    if not data.strip():
        raise UnsupportedFile(name, "the file is empty", code="empty_file")
    try:
        articles = [a for a in reader(data, name) if a.passages]
    except UnsupportedFile:
        raise
    except MemoryError:
        # Past the worker's memory limit (indexer/readers/worker.py).
        raise UnsupportedFile(name, "reading it needed more memory than allowed; stopped",
                              code="read_memory") from None
    except Exception as error:  # noqa: BLE001 - libraries fail on damaged files in many ways
        # A damaged file must be refused, never stop the other files of an add.
        raise UnsupportedFile(
            name, f"damaged or unreadable file ({type(error).__name__})",
            code="damaged_file") from error
    articles = [a for a in _bounded(articles, name) if a.passages]
    if not articles:
        raise UnsupportedFile(name, "no text found in the file", code="no_text")
    title_untitled(articles, name)
    mark_digests(articles)
    return articles


# Lone surrogates: what unicode_escape or utf-7 make of "\\ud800" or "+2AA-",
# and what a PDF's broken ToUnicode map can yield. opencc and UTF-8 encoding
# raise on them, so they never get past here.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, and without the
    characters that show nothing (:func:`~indexer.normalize.remove_ignorable`):
    a U+202E kept in a passage reversed the text of its hit in a browser.

    >>> valid_unicode("a\\ud800b") == "a\\ufffdb", valid_unicode("报\\u202e告")
    (True, '报告')
    """
    text = remove_ignorable(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def split_long(text: str, limit: int) -> Iterator[str]:
    """``text`` in pieces of at most ``limit`` characters, cut after a
    sentence end where one is in the second half of the piece.

    >>> list(split_long("一二。三四五六。七", 5))
    ['一二。', '三四五六。', '七']
    """
    while len(text) > limit:
        cut = max(text.rfind(end, 0, limit) for end in PASSAGE_CUTS) + 1
        if cut <= limit // 2:
            cut = limit
        yield text[:cut]
        text = text[cut:]
    if text:
        yield text


def _bounded(articles: list[Article], name: str) -> list[Article]:
    """Articles whose text is valid Unicode, in passages of a bounded length."""
    from indexer.readers.limits import MAX_PARAGRAPHS, MAX_PASSAGE_CHARS, MAX_TEXT_CHARS

    count = chars = 0
    for article in articles:
        article.title = valid_unicode(article.title)
        article.byline = valid_unicode(article.byline)
        passages = []
        for passage in article.passages:
            text = valid_unicode(passage.text)
            if not text.strip():
                continue  # nothing but zero-width characters
            chars += len(text)
            if len(text) <= MAX_PASSAGE_CHARS:
                passage.text = text
                passages.append(passage)
                continue
            # One hit must not carry megabytes: a paragraph of 20 MB answered
            # every search that found it with 21 MB of JSON.
            passages.extend(Passage(piece, passage.kind, valid_unicode(passage.section),
                                    passage.page)
                            for piece in split_long(text, MAX_PASSAGE_CHARS))
        for passage in passages:
            passage.section = valid_unicode(passage.section)
        article.passages = passages
        count += len(passages)
        if count > MAX_PARAGRAPHS:
            raise UnsupportedFile(name, f"more than {MAX_PARAGRAPHS:,} paragraphs: "
                                        "split it into smaller reports", code="too_many_paragraphs")
        if chars > MAX_TEXT_CHARS:
            raise UnsupportedFile(name, f"more than {MAX_TEXT_CHARS:,} characters of text; "
                                        "split it into smaller reports", code="too_much_text")
    return articles
