"""Readers turn a report file into articles; one module per format.

A reader is a function ``read(data: bytes, name: str) -> list[Article]``
registered here under the file suffixes it handles. It raises
:class:`UnsupportedFile` with a one-line reason for a file it cannot read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from indexer.document import Article
from indexer.errors import UnsupportedFile

__all__ = ["UnsupportedFile", "is_supported", "read_report", "supported_suffixes"]

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
    except Exception as error:  # noqa: BLE001 - libraries fail on damaged files in many ways
        # A damaged file must be refused, never stop the other files of an add.
        raise UnsupportedFile(
            name, f"damaged or unreadable file ({type(error).__name__})",
            code="damaged_file") from error
    if not articles:
        raise UnsupportedFile(name, "no text found in the file", code="no_text")
    return articles
