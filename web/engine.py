"""The one store and searcher an app shares between its request threads."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from pathlib import Path

from flask import current_app

from indexer import snapshot
from indexer.archive import REPORT_SORTS, Archive, sort_reports
from indexer.search import REFRESH_SECONDS, SearchService
from indexer.errors import ZhsearchError
from indexer.records import CorpusSummary, ReportList, SyncReport
from indexer.store import Store

_log = logging.getLogger(__name__)


class Engine:
    """A Store, its SearchService and Archive; the corpus summary and the
    report list are kept with the commit they were read from."""

    def __init__(self, store: Store, refresh_seconds: float = REFRESH_SECONDS):
        self.store = store
        self.service = SearchService(store, refresh_seconds=refresh_seconds)
        self.archive = Archive(self.service)

    def warm(self) -> None:
        """The service's newest commit opened and its arrays mapped (best
        effort: a missing or damaged index is reported by the first request)."""
        try:
            self.service.warm()
        except (ZhsearchError, OSError) as error:
            _log.warning("the index was not opened ahead of the first request: %s", error)

    def summary(self) -> CorpusSummary:
        """``corpus_summary()``, read once per commit of the index."""
        return self.service.corpus_summary()

    def reports(self, sort: str) -> ReportList:
        """``archive.reports(sort)``, read once per commit of the index
        (:class:`~indexer.generation.Generation`)."""
        if sort not in REPORT_SORTS:
            return self.archive.reports(sort)  # refused there; nothing kept per stray value
        generation = self.service.current()
        by_date = generation.memo(("web", "reports", "date"), lambda: self.archive.reports("date"))
        return generation.memo(("web", "reports", sort),
                               lambda: ReportList.of(sort_reports(by_date.reports, sort)))

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
