"""The one store and searcher an app shares between its request threads."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path

from flask import current_app

from indexer import snapshot
from indexer.archive import Archive, sort_reports
from indexer.search import REFRESH_SECONDS, SearchService
from indexer.records import CorpusSummary, ReportList, SyncReport
from indexer.store import Store


class Engine:
    """A Store, its SearchService and Archive, plus caches of the corpus summary
    and the report list."""

    def __init__(self, store: Store, refresh_seconds: float = REFRESH_SECONDS):
        self.store = store
        self.service = SearchService(store, refresh_seconds=refresh_seconds)
        self.archive = Archive(self.service)
        self._summary: tuple[object, CorpusSummary] | None = None
        self._reports: tuple[object, dict[str, ReportList]] | None = None

    def _generation(self) -> object:
        return (id(self.service), self.service.generation())

    def summary(self) -> CorpusSummary:
        """``corpus_summary()``, read again only after the index changed."""
        generation = self._generation()
        cached = self._summary
        if cached is None or cached[0] != generation:
            cached = (generation, self.service.corpus_summary())
            self._summary = cached
        return cached[1]

    def reports(self, sort: str) -> ReportList:
        """``archive.reports(sort)``, read again only after the index changed."""
        generation = self._generation()
        cached = self._reports
        if cached is None or cached[0] != generation:
            cached = (generation, {"date": self.archive.reports("date")})
            self._reports = cached
        by_sort = cached[1]
        if sort not in by_sort:
            by_sort[sort] = ReportList.of(sort_reports(by_sort["date"].reports, sort))
        return by_sort[sort]

    def remove(self, source: str) -> int:
        """Remove a report through the store's single-writer path; searches see it at once."""
        return self.archive.remove(source)

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


def before_fork(store: Store) -> None:
    """What a pre-fork server's master does once, so that its workers share
    it instead of each making its own: the newest generation's snapshot of
    the arrays built (in a child process, :func:`indexer.snapshot.prepare`),
    the segmenter's dictionary loaded (30 MB), and every object made so far
    moved out of the garbage collector's sight (``gc.freeze``), so that a
    worker's collections do not copy the pages they sit on."""
    if store.exists():
        snapshot.prepare(store.index_dir)
    store.segmenter()
    gc.freeze()
