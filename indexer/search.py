"""Searching an index: typed results (:class:`SearchResult`, :class:`Hit` with its
:class:`Snippet`) that the CLI and the web render, each in its own way."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

import numpy as np
from whoosh import collectors, sorting
from whoosh import query as wq
from whoosh.index import EmptyIndexError
from whoosh.reading import ReaderClosed
from whoosh.searching import Searcher

from indexer import analysis, arrange, evaluate
from indexer.arrays_build import SegmentGone
from indexer.document import TITLE
from indexer.errors import (IndexChanged, IndexCorrupt, QueryError, UnknownArticle,
                            UnknownPassage, ZhsearchError)
from indexer.explain import Explanation, explain_text
from indexer.exclusion import fixed_exclusions
from indexer.generation import Generation, key_of
from indexer.highlight import Highlighter
from indexer.query import CompiledQuery, compile_query, query_truncated
from indexer.request import SearchRequest
from indexer.records import (FILE, MAX_SAME_AS, ArticlePassage, ArticleView, CorpusSummary,
                             Hit, SameStory, SearchResult)
from indexer.relevance import TITLE_WEIGHT
from indexer.samestory import fingerprint
from indexer.settings import SETTINGS
from indexer.store import Store, from_whoosh
from indexer.suggest import suggest
from indexer.synonyms import Synonyms
from indexer.vocabulary import Vocabulary
from indexer.whoosh_internals import pin_column_files

# How often a long-lived searcher looks for a newer commit of the index, by
# default (SearchService's ``refresh_seconds``; the web's REFRESH_SECONDS).
REFRESH_SECONDS: float = SETTINGS["refresh_seconds"].default
# A single character that fewer than one passage in this many holds answers
# a question on its own (indexer.query: a question's shared words).
RARE_CHARACTER = 1000


def _run(searcher: Searcher, query: wq.Query, limit: int, by_date: bool = False):
    """Whoosh's results for ``query``, visiting every match.

    Whoosh's shortcuts are off: block-quality skipping can loop for ever on
    float ties in 2.7.4 (whoosh-community/whoosh#446, #461), and dropping
    sub-queries that cannot reach the top N leaves their documents out of
    the total. Every match is counted for the total anyway. Exclusions are
    matched without Whoosh 2.7.4's two bugs (:mod:`indexer.exclusion`).
    """
    query = fixed_exclusions(query)
    if by_date:
        collector = collectors.SortingCollector(
            sorting.FieldFacet("date", reverse=True), limit=limit)
    else:
        collector = collectors.TopCollector(limit, usequality=False, replace=0)
    searcher.search_with_collector(query, collector)
    return collector.results()


T = TypeVar("T")
P = ParamSpec("P")


def reading_failed(error: BaseException) -> bool:
    """Whether ``error`` came from reading the index's files: raised inside
    Whoosh, or a segment whose files went before they were opened."""
    return isinstance(error, (SegmentGone, ReaderClosed)) or from_whoosh(error)


def _raced(error: BaseException) -> bool:
    """Whether a reading failure is the kind a reader meets when another
    process's commit merged its segment away: a file deleted, a column
    Whoosh then finds gone (None), a reader closed. A damaged file fails
    otherwise ("Block tag error", struct, EOF)."""
    return isinstance(error, (SegmentGone, FileNotFoundError, ReaderClosed)) or (
        isinstance(error, TypeError) and "'NoneType'" in str(error))


def _retried(method: Callable[Concatenate[SearchService, P], T]
             ) -> Callable[Concatenate[SearchService, P], T]:
    """A :class:`SearchService` method run under :meth:`SearchService.reading`."""
    @functools.wraps(method)
    def read(self: SearchService, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.reading(lambda _searcher: method(self, *args, **kwargs))
    return read


def _pin_columns(searcher: Searcher) -> Searcher:
    """Open every column file of the searcher's segments now.

    Segments are plain files, and Whoosh opens a segment's columns (its
    stored fields among them) only when first read: a merge committed in
    between deletes them, and the searcher then answered 500 ('NoneType'
    object is not subscriptable; 1 of 2,600 soak requests). A file opened
    before the merge stays readable after it is deleted. A merge that
    deleted them between the opening of the reader and this (its stored
    fields column is gone) raises :class:`SegmentGone`: the newest commit
    is to be opened instead (issue 19: read as an empty column, it answered
    500, ``KeyError: 'content'``).
    """
    for leaf, _ in searcher.reader().leaf_readers():
        # Whoosh asks the folder whether a column exists before each first
        # read of it: the files opened here are the answer, deleted or not.
        pinned = pin_column_files(leaf)
        if pinned is None:
            continue
        if leaf.doc_count_all() and "_stored" not in pinned:
            searcher.close()
            raise SegmentGone(f"segment {leaf.segment().segment_id()} was merged away")
    return searcher


def _whoosh_arranger(searcher: Searcher, query: wq.Query, by_date: bool, fold: bool = False,
                     ids: dict[str, dict[str, int]] | None = None) -> arrange.Arranger | None:
    """:class:`~indexer.arrange.Arranger` over Whoosh's own evaluation of
    ``query``: the reference, and what runs a query the arrays cannot. Story
    fingerprints are computed from the stored texts, only when ``fold``.
    Arrangers made with the same ``ids`` number articles alike."""
    results = _run(searcher, query, max(searcher.doc_count(), 1), by_date)
    if not len(results):
        return None
    if ids is None:
        ids = {"article": {}, "year": {}, "source": {}}
    rows = []
    for rank, hit in enumerate(results):
        doc = hit.fields()
        key = float(len(results) - rank) if by_date else hit.score
        article = doc.get("article")
        rows.append((hit.docnum, key, doc.get("kind") in arrange.LEAD_KINDS,
                     doc.get("kind") == TITLE,
                     # -1 for none, as the arrays number a missing value.
                     ids["article"].setdefault(article, len(ids["article"])) if article else -1,
                     ids["year"].setdefault(arrange.year_of(doc.get("date")), len(ids["year"])),
                     ids["source"].setdefault(doc.get("source") or "", len(ids["source"])),
                     fingerprint(doc.get("content"), doc.get("kind")) if fold else 0))
    docnums, keys, lead, title, articles, year, source, story = zip(*rows)
    return arrange.Arranger(docnums, keys, lead=lead, title=title, article=articles, year=year,
                             source=source, years=list(ids["year"]), sources=list(ids["source"]),
                             fingerprint=story)


@dataclass
class _ThreadSearcher:
    searcher: Searcher
    checked: float
    # The searcher this one replaced: closed at the next replacement, when no
    # call of this thread can still be using it.
    retired: Searcher | None = None


# Opening a commit can meet a file that a merge deleted between listing the
# folder and opening it (issue 13: a TOC vanished, a healthy index answered
# 503); the next attempt reads the newer commit.
_OPEN_ATTEMPTS = 6


class SearchService:
    """Searches one index; safe to share between threads.

    Each thread keeps its own Whoosh searcher (they are not thread-safe),
    refreshed when a newer commit of the index appears; the vocabulary is
    built once per commit and shared.
    """

    def __init__(self, store: Store, *, long_lived: bool = True,
                 refresh_seconds: float = REFRESH_SECONDS):
        """``long_lived=False`` for a process that answers one search and
        exits: it then never merges the segments' arrays (see
        :func:`indexer.evaluate.index_arrays`). A thread's searcher looks
        for a newer commit (a directory listing, ~30 us) and the synonyms
        file for an edit at most every ``refresh_seconds``: 0 on every
        search, as gunicorn's workers do (another worker may have written)."""
        self.store = store
        self.long_lived = long_lived
        self.refresh_seconds = refresh_seconds
        self._index = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generations: dict[tuple, Generation] = {}
        self._changed_at = 0.0
        self._synonyms = Synonyms.watching(store.synonyms_file, refresh_seconds)

    def _open(self):
        with self._lock:
            if self._index is None:
                self._index = self.store.open_index(create=False)
            return self._index

    def _fresh_searcher(self) -> Searcher:
        """A searcher over the latest commit, opened anew (never Whoosh's
        ``refresh()``: when a merge removed a segment in between, it can hand
        back a searcher whose reader is closed, and every later search of that
        thread answered 500 until a restart)."""
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return _pin_columns(self._open().searcher())
            except (OSError, EmptyIndexError, SegmentGone):
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * 2 ** attempt)
        raise AssertionError("unreachable")

    def searcher(self) -> Searcher:
        current: _ThreadSearcher | None = getattr(self._local, "current", None)
        now = time.monotonic()
        if current is None:
            current = _ThreadSearcher(self._fresh_searcher(), now)
            self._local.current = current
        elif now - current.checked > self.refresh_seconds or current.checked < self._changed_at:
            current.checked = now
            try:
                latest = self._open().latest_generation()
                if latest != current.searcher.ixreader.generation():
                    fresh = self._fresh_searcher()
                    if current.retired is not None:
                        current.retired.close()
                    current.retired, current.searcher = current.searcher, fresh
            except (OSError, EmptyIndexError, SegmentGone):
                pass  # the searcher it has still answers; look again next time
        return current.searcher

    def _forget_searcher(self) -> None:
        """Drop this thread's searcher after it failed, so the next call opens anew."""
        self._local.current = None

    def reading(self, read: Callable[[Searcher], T]) -> T:
        """``read(searcher)`` on this thread's searcher: the one rule for every
        read the web and the command line make of the index.

        Another process's commit may merge this searcher's segments away and
        delete a file it had not opened yet (issue 19), or leave it a closed
        reader: the read is then made once more, on the newest commit. When
        that fails too, the index is damaged (:class:`IndexCorrupt`), unless
        the failure is again a race's and the index opens now
        (:class:`IndexChanged`: try again). A read inside another (``article``
        compiling its query) is retried by the outer one only, so a request
        is read at most twice.
        """
        if getattr(self._local, "reading", False):
            return read(self.searcher())
        self._local.reading = True
        try:
            try:
                return read(self.searcher())
            except ZhsearchError:
                raise
            except Exception as error:  # noqa: BLE001 - a damaged segment raises nearly anything
                if not reading_failed(error):
                    raise
                self._forget_searcher()
            try:
                return read(self.searcher())
            except ZhsearchError:
                raise
            except Exception as again:  # noqa: BLE001
                if not reading_failed(again):
                    raise
                self._forget_searcher()
                raise self._failure(again) from again
        finally:
            self._local.reading = False

    def _failure(self, error: BaseException) -> ZhsearchError:
        """What a read that failed twice means (see :meth:`reading`)."""
        if _raced(error):
            try:
                self.store.open_index(create=False)
                return IndexChanged(f"the index in {self.store.index_dir} changed while it was "
                                    f"read: {type(error).__name__}: {error}")
            except ZhsearchError:
                pass
        # A segment file damaged past its header: one line and a hint, not a 500.
        return IndexCorrupt.damaged(self.store.index_dir, error)

    def refresh(self) -> None:
        """Make every thread look for a new commit on its next search (after a write)."""
        self._changed_at = time.monotonic()

    def generation_of(self, searcher: Searcher) -> Generation:
        """The :class:`~indexer.generation.Generation` of the commit ``searcher``
        reads: one per commit, shared by every thread that reads it."""
        found: Generation | None = getattr(searcher, "_zh_generation", None)
        if found is not None:
            return found
        key = key_of(searcher)
        with self._lock:
            found = self._generations.get(key)
            if found is None:
                found = Generation(key[0], key[1], self.store.index_dir, merge=self.long_lived)
                # Threads read the newest commit or, until their next look, the
                # one before; each holds a vocabulary (the set of a multi-segment
                # index's words), so older ones live only on the searchers that
                # still read them (``_zh_generation``), and go with them.
                # The oldest made goes, not the lowest number: a rebuilt
                # index numbers its commits from 1 again.
                if len(self._generations) >= 2:
                    del self._generations[next(iter(self._generations))]
                self._generations[key] = found
        searcher._zh_generation = found
        return found

    def warm(self) -> None:
        """Open the newest commit and map its arrays (the snapshot a server's
        master built before forking), as a first search would: a server
        worker does it when it starts, so that its first request does not
        wait for it and every worker maps the one snapshot whether or not a
        request has reached it yet."""
        self.reading(self._arrays)

    @_retried
    def current(self) -> Generation:
        """The Generation of the commit this thread's searcher reads (a newer
        one within ``refresh_seconds``)."""
        return self.generation_of(self.searcher())

    def vocabulary(self, searcher: Searcher) -> Vocabulary:
        """The words of the commit ``searcher`` reads, made once per commit
        (and again when its arrays are replaced by their merge)."""
        return self.generation_of(searcher).vocabulary(searcher, self._arrays(searcher))

    @property
    def synonyms(self) -> Synonyms:
        """The synonym groups; an edited ``synonyms.dic`` counts within a second."""
        return self._synonyms()

    @_retried
    def compile(self, text: str) -> CompiledQuery:
        searcher = self.searcher()
        return self._compile(text, self.vocabulary(searcher))

    def _compile(self, text: str, vocab: Vocabulary, relaxed: bool = False) -> CompiledQuery:
        """The query cut into words as the index was: with the corpus's dictionaries."""
        rare = None
        if relaxed:
            searcher = self.searcher()
            passages = searcher.doc_count_all()

            def rare(char: str) -> bool:
                # Fewer than one passage in RARE_CHARACTER holds it: 蓍 in 1 of
                # 50,508, where 人 stands in thousands.
                return searcher.doc_frequency("content", char) * RARE_CHARACTER < passages
        with analysis.using(self.store.segmenter()):
            return compile_query(text, vocab, self.synonyms, relaxed=relaxed, rare=rare)

    def search(self, text: SearchRequest | str, page: int = 1, limit: int = 10, *,
               source: str | None = None, date_from: str | None = None,
               date_to: str | None = None, sort: str = "relevance",
               group: str | None = None, scope: str = "all",
               fold: str | None = None) -> SearchResult:
        """Run ``text``, a :class:`~indexer.request.SearchRequest`, or a query
        text with the request's fields as keywords (read by :meth:`SearchRequest.of`).
        ``limit=0`` returns every hit on one page.

        ``group="article"`` returns one hit per article (its best passage, with
        how many ``more`` of its passages match), and ``total`` counts articles;
        ``fold="same"`` folds the copies of one passage that other reports
        carry into the best of them (``same``, ``same_as``), after grouping,
        and ``total`` counts what is left; ``scope="title"`` matches article
        titles only. ``facets`` count every match (every hit left when grouped
        or folded) by year and by source.

        ``result.to_json()`` is the object of ``zhsearch search --json``.
        Raises :class:`QueryError` for a request that cannot be run as given.
        """
        request = text if isinstance(text, SearchRequest) else SearchRequest.of(
            text, page, limit, source=source, date_from=date_from,
            date_to=date_to, sort=sort, group=group, scope=scope, fold=fold)
        return self.reading(lambda _searcher: self._search(request))

    def _search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        # Checked when it was made (indexer/request.py); only the source needs the index.
        text, page, limit, source = request.text, request.page, request.limit, request.source
        date_from, date_to, sort, scope = (request.date_from, request.date_to, request.sort,
                                           request.scope)
        group, fold = request.grouped, request.folded
        searcher = self.searcher()
        if source and searcher.document_number(kind=FILE, source=source) is None:
            raise QueryError(f"no report named {source!r} is indexed", code="unknown_source",
                             value=source)
        vocab = self.vocabulary(searcher)
        compiled = self._compile(text, vocab)
        result = SearchResult(text, page, limit, grouped=group, folded=fold,
                              query_truncated=query_truncated(text))
        filters = (source, date_from, date_to, scope, fold is not None, group is not None)
        arranged = self._arranged(searcher, compiled, sort, *filters)
        if arranged is None and compiled.relaxable:
            # Nothing holds every word (a question typed with few words):
            # rank by the words passages share with it instead.
            relaxed = self._compile(text, vocab, relaxed=True)
            if relaxed.query != compiled.query:
                compiled = relaxed
                result.relaxed = True
                arranged = self._arranged(searcher, compiled, sort, *filters)
        if arranged is not None:
            self._fill(result, searcher, arranged, compiled, sort)
        if result.total == 0:
            result.suggestion = self._suggestion(text, searcher)
        result.took_ms = round((time.perf_counter() - started) * 1000, 1)
        return result

    def _fill(self, result: SearchResult, searcher: Searcher, arranged: arrange.Arranger,
              compiled: CompiledQuery, sort: str) -> None:
        """The page of hits, the total and the facets, from every match."""
        page, limit = result.page, result.limit
        scored = sort != "date"  # sorted by date, Whoosh computes no relevance
        wanted = None if limit == 0 or result.grouped or result.folded else page * limit
        # A question ranks by the words passages share with it: no title evidence.
        title_weight = 0.0 if compiled.overlap else TITLE_WEIGHT
        order = arranged.order(scored=scored, limit=wanted, title_weight=title_weight)
        more: list[int] | None = None
        copies: dict[int, list[int]] | None = None
        result.passages = len(arranged)
        if result.grouped:
            picks, more = arranged.grouped(order)
        else:
            picks = order.tolist()
        if result.folded:
            kept, copies = arranged.folded(picks)
            picks = np.asarray(picks, dtype=np.int64)[kept].tolist()
            if more is not None:
                more = np.asarray(more, dtype=np.int64)[kept].tolist()
        if result.grouped or result.folded:
            result.total = len(picks)
            result.facets = arranged.facets(picks)
        else:
            result.total = len(arranged)
            result.facets = arranged.facets()
        first = 0 if limit == 0 else (page - 1) * limit
        shown = picks[first:] if limit == 0 else picks[first:first + limit]
        # The needles are compiled once for every hit of the page.
        marker = Highlighter(compiled.needles)
        stored = self.generation_of(searcher).stored_fields(searcher)
        for rank, i in enumerate(shown, start=first):
            doc = stored(int(arranged.docnums[i]))
            score = round(float(arranged.relevance(title_weight)[i]), 3) if scored else None
            hit = Hit.from_stored(doc, marker.snippet(doc["content"]), score)
            if more is not None:
                hit.more = more[rank]
            if copies is not None:
                folded = copies.get(i, [])
                hit.same = len(folded)
                hit.same_as = [SameStory.from_stored(stored(int(arranged.docnums[j])))
                               for j in folded[:MAX_SAME_AS]]
            result.hits.append(hit)

    @staticmethod
    def _query(compiled: CompiledQuery, source: str | None, date_from: str | None,
               date_to: str | None, scope: str = "all") -> wq.Query | None:
        """The compiled query with its filters, or None when it has no query."""
        if compiled.query is None:
            return None
        # Filters go into the query itself (scoring nothing): Whoosh's count
        # of a filtered search ignores the filter.
        filters: list[wq.Query] = [wq.Term("source", source)] if source else []
        if date_from or date_to:
            filters.append(wq.TermRange("date", date_from, date_to))
        if scope == "title":
            filters.append(wq.Term("kind", TITLE))
        if not filters:
            return compiled.query
        return wq.And([compiled.query, *(wq.ConstantScoreQuery(f, 0.0) for f in filters)])

    def _arranged(self, searcher: Searcher, compiled: CompiledQuery, sort: str,
                  source: str | None, date_from: str | None, date_to: str | None,
                  scope: str, fold: bool = False, grouped: bool = False
                  ) -> arrange.Arranger | None:
        """Every match, ready to rank, group, fold and count; None when nothing
        matches. ``grouped``: an article with a passage that holds a -term is
        left out whole, not only that passage."""
        query = self._query(compiled, source, date_from, date_to, scope)
        if query is None:
            return None
        queries = [query]
        if grouped and compiled.excluded is not None:
            queries.append(compiled.excluded)
        arranged, *unwanted = self._arrange_each(searcher, queries, sort == "date", fold)
        if arranged is not None and unwanted and unwanted[0] is not None:
            arranged = arranged.without_articles(unwanted[0])
        return arranged

    def _arrange_each(self, searcher: Searcher, queries: list[wq.Query], by_date: bool,
                      fold: bool) -> list[arrange.Arranger | None]:
        """The matches of each query, by one evaluation, so that their
        articles are numbered alike."""
        arrays = self._arrays(searcher)
        if arrays is not None:
            try:
                return [arrays.arrange(query, by_date) for query in queries]
            except evaluate.Unsupported:
                pass
        ids: dict[str, dict[str, int]] = {"article": {}, "year": {}, "source": {}}
        return [_whoosh_arranger(searcher, query, by_date, fold, ids) for query in queries]

    def _arrays(self, searcher: Searcher) -> evaluate.IndexArrays | None:
        return self.generation_of(searcher).arrays(searcher)

    def _suggestion(self, text: str, searcher: Searcher) -> str | None:
        """A corrected query, offered only when it finds something."""
        vocab = self.vocabulary(searcher)
        corrected = suggest(text, vocab, lambda w: searcher.doc_frequency("content", w))
        if corrected is None:
            return None
        query = self._compile(corrected, vocab).query
        arrays = self._arrays(searcher)
        found = query is not None and (arrays.count(query) if arrays else len(_run(searcher, query, 1)))
        return corrected if found else None

    @_retried
    def article(self, article_id: str, query: str = "") -> ArticleView:
        """A whole article, its passages in order, every match of ``query`` marked;
        :class:`UnknownArticle` when no passage has this article id."""
        searcher = self.searcher()
        docs = [searcher.stored_fields(n) for n in searcher.document_numbers(article=article_id)]
        if not docs:
            raise UnknownArticle(article_id)
        docs.sort(key=lambda d: d["paragraph"])
        marker = Highlighter(self.compile(query).needles if query.strip() else [])
        first = docs[0]
        return ArticleView(
            article_id, first.get("title", ""), first["source"], first.get("date"),
            first.get("byline", ""),
            [ArticlePassage.from_stored(d, tuple(marker.spans(d["content"]))) for d in docs])

    @_retried
    def explain(self, query: str, passage_id: str) -> Explanation:
        """为什么匹配: how ``query`` matches the passage ``passage_id``, term by term;
        :class:`UnknownPassage` when the index holds no such passage."""
        doc = self.searcher().document(id=passage_id)
        if not doc or "content" not in doc:
            raise UnknownPassage(passage_id)
        with analysis.using(self.store.segmenter()):  # cut as the index was
            return explain_text(query, doc["content"], passage_id, self.synonyms)

    @_retried
    def corpus_summary(self) -> CorpusSummary:
        """Reports and passages in the index (as ``zhsearch stats`` counts them),
        and the sources and date range."""
        searcher = self.searcher()
        return self.generation_of(searcher).summary(searcher)
