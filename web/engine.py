"""The one store and searcher an app shares between its request threads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flask import current_app

from indexer.search import SearchService
from indexer.records import CorpusSummary, SyncReport
from indexer.store import Store


class Engine:
    """A Store and its SearchService, plus a cache of the corpus summary."""

    def __init__(self, store: Store):
        self.store = store
        self.service = SearchService(store)
        self._summary: tuple[object, CorpusSummary] | None = None

    def summary(self) -> CorpusSummary:
        """``corpus_summary()``, read again only after the index changed."""
        searcher = self.service.searcher()
        generation = (id(self.service), searcher.ixreader.generation())
        cached = self._summary
        if cached is None or cached[0] != generation:
            cached = (generation, self.service.corpus_summary())
            self._summary = cached
        return cached[1]

    def add_uploads(self, items: Iterable[tuple[str, bytes | Path]]) -> SyncReport:
        """Add uploaded files through the store's single-writer path."""
        report = self.store.add_uploads(items)
        if report.changed:
            # Searchers look for a new commit at most once a second; the upload
            # page promises the file is searchable on the very next request.
            self.service.refresh()
        return report


def get_engine() -> Engine:
    return current_app.extensions["zhsearch"]
