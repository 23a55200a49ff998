"""One commit of the index as a search service reads it (issue 20, item 3).

A :class:`Generation` is made once per (service, commit) and shared by every
thread whose searcher reads that commit. It owns what is read from the index
and stays true until the next commit: the vocabulary, the file records, the
corpus summary, and whatever a front door derives from them (:meth:`memo`).
Its freshness rule is the searcher's: a thread that opens a newer commit gets
a new Generation, and one still reading the old commit keeps the old one,
unchanged. (Not the snapshot *file* of the arrays: that is
:mod:`indexer.snapshot`.)
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from whoosh.searching import Searcher

from indexer import evaluate
from indexer.postings import leaves, segments_of
from indexer.records import CorpusSummary, FileRecord
from indexer.store import Store
from indexer.vocabulary import Vocabulary
from indexer.whoosh_internals import stored_column

T = TypeVar("T")


def key_of(searcher: Searcher) -> tuple[int, tuple[tuple[str, int], ...]]:
    """What identifies the commit ``searcher`` reads."""
    return searcher.ixreader.generation(), segments_of(searcher.reader())


class StoredFields:
    """A searcher's stored fields, read straight from each segment's column.

    Whoosh's way (searcher, multi-reader, segment reader, per-document
    reader, column) took 56 us a hit under the profiler, a fifth of filling
    a page of ten; the column alone does the same reading. Fields the
    schema no longer has are left out, as Whoosh does.
    """

    def __init__(self, searcher: Searcher):
        segments = leaves(searcher.reader())
        self._offsets = [offset for _, offset in segments]
        self._columns = [stored_column(leaf) for leaf, _ in segments]
        self._names = frozenset(searcher.schema.names())

    @classmethod
    def of(cls, searcher: Searcher) -> Callable[[int], dict]:
        """The reader of ``searcher``'s stored fields, made once per searcher;
        Whoosh's own when its readers are not plain segments."""
        found = getattr(searcher, "_zh_stored", None)
        if found is None:
            try:
                found = cls(searcher)
            except AttributeError:
                found = searcher.stored_fields
            searcher._zh_stored = found
        return found

    def __call__(self, docnum: int) -> dict:
        i = bisect.bisect_right(self._offsets, docnum) - 1
        column = self._columns[i]
        doc = column[docnum - self._offsets[i]] if column is not None else None
        if not doc:
            return {}
        return doc if doc.keys() <= self._names else {
            k: v for k, v in doc.items() if k in self._names}


class Generation:
    """What one commit of the index holds, each part computed once, when first asked.

    Every method takes the calling thread's searcher, which must read this
    commit: Whoosh's readers are not thread-safe, so the one thing kept per
    searcher, not per commit, is the stored-fields reader over its open files.

    >>> g = Generation(3, (("abc", 0),), "/nowhere")
    >>> g.number, g.memo("answer", lambda: 42), g.memo("answer", lambda: 0)
    (3, 42, 42)
    """

    def __init__(self, number: int, segments: tuple[tuple[str, int], ...],
                 folder: str | Path | None, merge: bool = False):
        self.number = number
        self.segments = segments
        self._folder = folder
        self._merge = merge
        self._lock = threading.Lock()
        self._memo: dict[Hashable, Any] = {}
        self._vocab: tuple[object, Vocabulary] | None = None

    def __repr__(self) -> str:
        return f"Generation({self.number}, {len(self.segments)} segments)"

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once for this commit and kept with it.

        Made outside the lock (reading the file records takes 0.19 s on the
        2022 news): two threads may both make it once, and the first kept wins.
        """
        try:
            return self._memo[key]
        except KeyError:
            pass
        made = make()
        with self._lock:
            return self._memo.setdefault(key, made)

    def arrays(self, searcher: Searcher) -> evaluate.IndexArrays | None:
        """The commit's arrays; None when they cannot answer for it.

        Asked of :func:`indexer.evaluate.index_arrays` each time, not kept:
        a long-lived service's segments' arrays are replaced by their merge,
        or the shared snapshot, while the commit is current, and its cache
        answers in a dictionary look-up.
        """
        try:
            return evaluate.index_arrays(searcher, self._folder, merge=self._merge)
        except evaluate.Unsupported:
            return None

    def vocabulary(self, searcher: Searcher,
                   arrays: evaluate.IndexArrays | None) -> Vocabulary:
        """The commit's words, from ``arrays`` when there are any; made anew
        only when the arrays are replaced by their merge (or the snapshot
        every process shares), whose one term table is searched where it lies."""
        cached = self._vocab
        if cached is not None and cached[0] is arrays:
            return cached[1]
        if arrays is not None:
            # The arrays hold each segment's words: 10 ms, where walking
            # Whoosh's lexicons read them one by one (0.6 s on the 2022 subset).
            vocab = arrays.vocabulary()
        else:
            # Segment by segment: Whoosh's merged lexicon is twice as slow.
            words: set[str] = set()
            for leaf, _ in searcher.reader().leaf_readers():
                words.update(t.decode("utf-8") for t in leaf.lexicon("content"))
            vocab = Vocabulary(words)
        with self._lock:
            self._vocab = (arrays, vocab)
        return vocab

    def stored_fields(self, searcher: Searcher) -> Callable[[int], dict]:
        """The stored fields of a document number, read through ``searcher``'s
        own open files (kept with the searcher: see the class)."""
        return StoredFields.of(searcher)

    def file_records(self, searcher: Searcher) -> dict[str, FileRecord]:
        """Every indexed file's record, by source (:meth:`Store.file_records`)."""
        return self.memo("file_records", lambda: Store.file_records(searcher))

    def summary(self, searcher: Searcher) -> CorpusSummary:
        """Reports and passages in the commit, its sources and date range."""
        return self.memo("summary", lambda: CorpusSummary.of(self.file_records(searcher)))
