"""Query trees evaluated as whole-array operations over the segment arrays.

The queries :func:`indexer.query.compile_query` builds (Whoosh ``And``,
``Or``, ``AndNot``, ``Not``, ``Term``, ``Phrase``, ``ConstantScoreQuery``,
``TermRange`` and the ``AnyTerm`` / ``AdjacentWords`` of
:mod:`indexer.docsets`) are answered from each segment's arrays
(:mod:`indexer.postings`) with numpy: a term is a slice of a segment's
postings, AND / OR / NOT are merges of sorted document numbers
(:mod:`indexer.sortedsets`), BM25 is a few vector operations
(:mod:`indexer.bm25`), phrases compare word positions of candidate
documents only (:mod:`indexer.phrase`), and the matches are then ranked,
grouped and counted by :mod:`indexer.arrange`. No Python step runs per
matching document. This module is the walk over the query tree.

Whoosh's own evaluation stays the reference (the tests compare both), so
this module reproduces what Whoosh 2.7.4 computes, quirks included:

- BM25F as :func:`indexer.bm25.bm25` computes it, with Whoosh's idf over
  every document (deleted ones too), its average length, and each
  document's length as the one-byte approximation Whoosh stores;
- a compound query's score is the sum of its matching children's, times its
  boost — except a compound of one child, which Whoosh scores as the child;
- a ``ConstantScoreQuery`` of score 0 scores 1.0 (Whoosh's ``ListMatcher``
  takes a zero ``all_weights`` for "none given");
- ties rank in document order; sorted by date, newest first, then in
  document order, passages without a date last.

A query it does not know raises :class:`Unsupported`: the caller then asks
Whoosh.
"""

from __future__ import annotations

import bisect
import threading
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.query import qcore
from whoosh.query.compound import DefaultOr, PreloadedOr
from whoosh.scoring import BM25F

from indexer import bm25, snapshot
from indexer.arrange import LEAD_KINDS, UNDATED, Arranger, year_of
from indexer.arrays_format import CODED_FIELDS, FIELD, DamagedArrays, SegmentArrays, _ranges
from indexer.docsets import AdjacentWords, AnyTerm
from indexer.document import TITLE
from indexer.phrase import adjacent, position_keys
from indexer.postings import forget, leaves, segment_arrays, segments_of
from indexer.sortedsets import _contains, _distinct
from indexer.vocabulary import TermsVocabulary, Vocabulary
from indexer.whoosh_internals import bm25f_field_b

# Below this many postings per document of a segment, a union is merged by
# sorting; above it, by marking a per-document array (2,000 postings: 20 us
# sorted, 10 us marked in a 25,000-passage segment).
_DENSE_RATIO = 1 / 32

_EMPTY_DOCS = np.zeros(0, dtype=np.int32)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)


# Not Whoosh's Ordered (an And subclass) nor SplitOr: other semantics.
_COMPOUNDS = (wq.And, wq.Or, DefaultOr, PreloadedOr)


class Unsupported(TypeError):
    """A query this evaluator does not handle; Whoosh must run it."""


class _Leaf:
    """One segment as seen by one searcher: its arrays and its deletions."""

    __slots__ = ("arrays", "offset", "alive", "date_rank", "extra")

    def __init__(self, arrays: SegmentArrays, offset: int, alive: np.ndarray | None):
        self.arrays = arrays
        self.offset = offset
        self.alive = alive
        self.date_rank: np.ndarray | None = None
        self.extra: tuple = ()


def _alive_all(readers) -> np.ndarray | None:
    """:func:`_alive` of consecutive segment readers, as one."""
    parts = [_alive(reader) for reader in readers]
    if all(part is None for part in parts):
        return None
    return np.concatenate([np.ones(reader.doc_count_all(), dtype=bool) if part is None else part
                           for reader, part in zip(readers, parts)])


def _alive(reader) -> np.ndarray | None:
    """False for each deleted document of a segment reader; None when none is."""
    if not reader.has_deletions():
        return None
    alive = np.ones(reader.doc_count_all(), dtype=bool)
    deleted = np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)
    alive[deleted[deleted < len(alive)]] = False
    return alive


class IndexArrays:
    """The arrays of every segment under one Whoosh searcher, and the
    collection statistics Whoosh scores with."""

    def __init__(self, searcher, folder: str | Path | None, shared: SegmentArrays | None = None):
        """The arrays of each segment of ``searcher``, or ``shared``: the
        snapshot of them all (:mod:`indexer.snapshot`)."""
        segments = leaves(searcher.reader())
        weighting = searcher.weighting
        if type(weighting) is not BM25F or bm25f_field_b(weighting):
            raise Unsupported(f"scoring model {weighting!r}")
        self.folder = Path(folder) if folder else None
        if shared is not None:
            self._start([_Leaf(shared, 0, _alive_all([leaf for leaf, _ in segments]))],
                        weighting.B, weighting.K1)
            return
        self._start([_Leaf(segment_arrays(leaf, folder), offset, _alive(leaf))
                     for leaf, offset in segments], weighting.B, weighting.K1)

    def _start(self, leaves: list[_Leaf], B: float, K1: float) -> None:
        """The statistics of these leaves, and empty caches."""
        self.leaves = leaves
        self.B, self.K1 = B, K1
        self.doc_count_all = sum(leaf.arrays.doc_count for leaf in self.leaves)
        # Whoosh: field_length / doc_count_all, or 1 when that is 0.
        self.avgfl = sum(leaf.arrays.field_length for leaf in self.leaves) / (
            self.doc_count_all or 1) or 1
        self._idf: dict[str, float] = {}
        self._dates_lock = threading.Lock()
        # Whether index_arrays has started the merge of these arrays.
        self.merge_started = False
        self._dates_ready = False
        self._attributes_ready = False
        self.years: list[str] = []
        self.sources: list[str] = []

    def merged(self) -> IndexArrays:
        """These arrays with every segment merged into one: a query then
        walks its tree once, not once per segment. The merged arrays are the
        snapshot file shared by every process (:func:`indexer.snapshot.obtain`),
        or in memory when the folder cannot be written; these arrays as they
        are when another process's build of it did not end."""
        at = 0
        for leaf in self.leaves:
            if leaf.offset != at:  # not numbered one segment after the other
                return self
            at += leaf.arrays.doc_count
        if len(self.leaves) < 2:
            return self
        alive = None
        if any(leaf.alive is not None for leaf in self.leaves):
            alive = np.concatenate([leaf.alive if leaf.alive is not None
                                    else np.ones(leaf.arrays.doc_count, dtype=bool)
                                    for leaf in self.leaves])
        shared = snapshot.obtain(self.folder, [leaf.arrays for leaf in self.leaves])
        if shared is None:
            return self
        one = IndexArrays.__new__(IndexArrays)
        one.folder = self.folder
        one._start([_Leaf(shared, 0, alive)], self.B, self.K1)
        return one

    def words(self) -> set[str]:
        """The content field's words of every segment (Whoosh's lexicon)."""
        found: set[str] = set()
        for leaf in self.leaves:
            found.update(leaf.arrays.terms.words())
        return found

    def vocabulary(self) -> Vocabulary:
        """The words of every segment, searchable by substring, prefix and
        suffix: read from the arrays' term table when there is one segment
        (or the shared snapshot), with no copy of the words per process."""
        if len(self.leaves) == 1:
            return TermsVocabulary(self.leaves[0].arrays.terms)
        return Vocabulary(self.words())

    def idf(self, word: str) -> float:
        """Whoosh's ``WeightingModel.idf`` over every segment."""
        found = self._idf.get(word)
        if found is None:
            df = 0
            for leaf in self.leaves:
                start, end = leaf.arrays.postings(word)
                df += end - start
            found = bm25.idf(self.doc_count_all, df)
            self._idf[word] = found
        return found

    def _date_ranks(self) -> None:
        """Each segment's date codes as ranks in the dates of all segments."""
        with self._dates_lock:
            if self._dates_ready:
                return
            every = sorted({d.encode("utf-8") for leaf in self.leaves
                            for d in leaf.arrays.names("date")})
            for leaf in self.leaves:
                names = [d.encode("utf-8") for d in leaf.arrays.names("date")]
                ranks = np.array([bisect.bisect_left(every, n) for n in names] + [-1], dtype=np.int64)
                # Code -1 (no date) indexes the appended -1: it ranks last.
                leaf.date_rank = ranks[leaf.arrays.codes["date"]]
            self._dates_ready = True

    # -- running a query -----------------------------------------------------------

    def count(self, query: wq.Query) -> int:
        """How many live documents match ``query``."""
        return sum(len(docs) for _, docs, _ in self._matches(query, scored=False))

    def _attributes(self) -> None:
        """Per segment, tables from its codes to numbers shared by all segments:
        whether a kind is a lead kind, the article, the year, the source."""
        with self._dates_lock:
            if self._attributes_ready:
                return
            articles: dict[str, int] = {}
            years: dict[str, int] = {}
            sources: dict[str, int] = {}
            for leaf in self.leaves:
                a = leaf.arrays
                # Each table has one entry more, for code -1 (no value).
                # A kind's number: 0 body and the like, 1 a lead, 2 a title.
                kind = np.array([(n in LEAD_KINDS) + (n == TITLE) for n in a.names("kind")] + [0],
                                dtype=np.int8)
                article = np.array([articles.setdefault(n, len(articles)) for n in a.names("article")]
                                   + [-1], dtype=np.int64)
                year = np.array([years.setdefault(year_of(n), len(years)) for n in a.names("date")]
                                + [years.setdefault(UNDATED, len(years))], dtype=np.int64)
                source = np.array([sources.setdefault(n, len(sources)) for n in a.names("source")]
                                  + [sources.setdefault("", len(sources))], dtype=np.int64)
                leaf.extra = (kind, article, year, source)
            self.years, self.sources = list(years), list(sources)
            self._attributes_ready = True

    def arrange(self, query: wq.Query, by_date: bool = False) -> Arranger | None:
        """Every match of ``query`` with what ranking, grouping and facets need."""
        parts = self._matches(query, scored=not by_date)
        if not parts:
            return None
        self._attributes()
        if by_date:
            self._date_ranks()
        docnums, keys, stories = [], [], []
        cols: dict[str, list[np.ndarray]] = {"kind": [], "article": [], "date": [], "source": []}
        for leaf, docs, scores in parts:
            docnums.append(leaf.offset + docs.astype(np.int64))
            stories.append(leaf.arrays.fingerprints[docs])
            keys.append(leaf.date_rank[docs].astype(np.float64) if by_date else scores)
            for (name, col), table in zip(cols.items(), leaf.extra):
                col.append(table[leaf.arrays.codes[name][docs]])
        kind = np.concatenate(cols["kind"])
        return Arranger(np.concatenate(docnums), np.concatenate(keys),
                        lead=kind > 0, title=kind == 2, article=np.concatenate(cols["article"]),
                        year=np.concatenate(cols["date"]), source=np.concatenate(cols["source"]),
                        years=self.years, sources=self.sources,
                        fingerprint=np.concatenate(stories))

    def _matches(self, query: wq.Query, scored: bool):
        parts = []
        for leaf in self.leaves:
            run = _SegmentRun(self, leaf, scored)
            docs, scores = run.eval(query, scored)
            if leaf.alive is not None and len(docs):
                keep = leaf.alive[docs]
                docs = docs[keep]
                scores = scores[keep] if scores is not None else None
            if len(docs):
                parts.append((leaf, docs, scores))
        return parts


class _Step:
    """The postings of any of some words in one segment."""

    __slots__ = ("post", "docs", "size", "single", "_unique", "_run")

    def __init__(self, run: _SegmentRun, words: tuple[str, ...]):
        a = run.a
        terms = a.terms
        if len(words) == 1:  # a phrase's word: no arrays to build for one slice
            i = terms.find(words[0])
            start, end = (int(a.term_ptr[i]), int(a.term_ptr[i + 1])) if i >= 0 else (0, 0)
            self.single, self.size = True, end - start
            self.post = np.arange(start, end)
            self.docs = a.docs[start:end]
        else:
            idx = terms.find_many(dict.fromkeys(words))
            idx = idx[idx >= 0]
            begin = a.term_ptr[idx]
            sizes = a.term_ptr[idx + 1] - begin
            self.single = len(idx) == 1
            self.size = int(sizes.sum())
            if self.single:
                self.post = np.arange(begin[0], begin[0] + sizes[0])
                self.docs = a.docs[begin[0]:begin[0] + sizes[0]]
            else:
                self.post = _ranges(begin, sizes)
                self.docs = a.docs[self.post]
        self._unique = self.docs if self.single or not self.size else None
        self._run = run

    def unique(self) -> np.ndarray:
        """The documents, sorted and distinct."""
        if self._unique is None:
            self._unique = self._run._union_docs(self.docs)
        return self._unique


class _SegmentRun:
    """One query over one segment; a word's postings are read once per query."""

    def __init__(self, index: IndexArrays, leaf: _Leaf, scored: bool):
        self.index = index
        self.leaf = leaf
        self.a = leaf.arrays
        self.n_docs = leaf.arrays.doc_count
        self._scores: dict[str, np.ndarray] = {}
        self._steps: dict[tuple, _Step] = {}
        self._candidates: dict[tuple[int, ...], np.ndarray] = {}

    # -- sets of documents ---------------------------------------------------------

    def _in(self, docs: np.ndarray, values: np.ndarray) -> np.ndarray:
        """For each of ``values``: whether it is one of the sorted ``docs``.

        Many values are looked up in a per-document mask (20,000 in 15 us),
        a few by binary search (which took 100 us for those 20,000).
        """
        if len(values) * 32 > self.n_docs:
            mask = np.zeros(self.n_docs, dtype=bool)
            mask[docs] = True
            return mask[values]
        return _contains(docs, values)[0]

    def _union_docs(self, docs: np.ndarray) -> np.ndarray:
        if len(docs) > self.n_docs * _DENSE_RATIO:
            mask = np.zeros(self.n_docs, dtype=bool)
            mask[docs] = True
            return np.flatnonzero(mask).astype(np.int32)
        return _distinct(docs).astype(np.int32)

    def _union(self, parts: list[tuple[np.ndarray, np.ndarray | None]], scored: bool):
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return _EMPTY_DOCS, (_EMPTY_SCORES if scored else None)
        if len(parts) == 1:
            return parts[0]
        docs = np.concatenate([d for d, _ in parts])
        if not scored:
            return self._union_docs(docs), None
        scores = np.concatenate([s for _, s in parts])
        if len(docs) > self.n_docs * _DENSE_RATIO:
            mask = np.zeros(self.n_docs, dtype=bool)
            mask[docs] = True
            found = np.flatnonzero(mask)
            return found.astype(np.int32), np.bincount(docs, scores, self.n_docs)[found]
        order = np.argsort(docs, kind="stable")
        docs, scores = docs[order], scores[order]
        first = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        return docs[first].astype(np.int32), np.add.reduceat(scores, first)

    @staticmethod
    def _intersect(parts: list[tuple[np.ndarray, np.ndarray | None]], scored: bool):
        parts = sorted(parts, key=lambda p: len(p[0]))
        docs, scores = parts[0]
        for other_docs, other_scores in parts[1:]:
            if not len(docs):
                break
            hit, at = _contains(other_docs, docs)
            docs = docs[hit]
            if scored:
                assert scores is not None and other_scores is not None
                scores = scores[hit] + other_scores[at[hit]]
        return docs, scores

    # -- terms ---------------------------------------------------------------------

    def _word_docs(self, word: str) -> np.ndarray:
        return self._step((word,)).docs

    def _word_scores(self, word: str) -> np.ndarray:
        """BM25 of ``word`` for each of its documents, exactly as Whoosh computes it."""
        found = self._scores.get(word)
        if found is None:
            start, end = self.a.postings(word)
            tf = self.a.freqs[start:end].astype(np.float64)
            fl = self.a.lengths[self.a.docs[start:end]].astype(np.float64)
            idf = self.index.idf(word)
            K1, B, avgfl = self.index.K1, self.index.B, self.index.avgfl
            found = bm25.bm25(idf, tf, fl, avgfl, B, K1)
            self._scores[word] = found
        return found

    def _coded(self, fieldname: str, low: bytes, high: bytes, low_excl: bool = False,
               high_excl: bool = False) -> tuple[np.ndarray, int]:
        """Documents whose ``fieldname`` lies in ``[low, high]`` (as UTF-8 bytes),
        and how many distinct values matched."""
        names = self.a.names_bytes(fieldname)
        lo = bisect.bisect_right(names, low) if low_excl else bisect.bisect_left(names, low)
        hi = bisect.bisect_left(names, high) if high_excl else bisect.bisect_right(names, high)
        if hi <= lo:
            return _EMPTY_DOCS, 0
        codes = self.a.codes[fieldname]
        return np.flatnonzero((codes >= lo) & (codes < hi)).astype(np.int32), hi - lo

    # -- positions -----------------------------------------------------------------

    def _step(self, words) -> _Step:
        """The postings of any of ``words``; read once per query: the
        spellings of a query share their lists of words."""
        key = tuple(words)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = _Step(self, key)
        return found

    def _adjacent(self, steps: list[list[str]]) -> np.ndarray:
        """Documents where a word of each step stands at consecutive positions
        (:func:`indexer.phrase.adjacent`), looked for only in the documents
        that hold a word of every step."""
        if not steps:
            return _EMPTY_DOCS
        taken = [self._step(step) for step in steps]
        if any(t.size == 0 for t in taken):
            return _EMPTY_DOCS
        # From the rarest step: a common one is only looked up in the others'
        # documents, never merged on its own. The spellings of one string
        # share most of their steps, so each intersection is kept for the
        # query (41 spellings of 产业工人队伍建设改革: 1.5 -> 1.3 ms a segment).
        candidates = None
        key: tuple[int, ...] = ()
        for t in sorted(taken, key=lambda t: (t.size, id(t))):
            key += (id(t),)
            found = self._candidates.get(key)
            if found is None:
                if candidates is None:
                    found = t.unique()
                elif t.single:
                    hit, _ = _contains(t.docs, candidates)
                    found = candidates[hit]
                else:
                    found = _distinct(t.docs[self._in(candidates, t.docs)])
                self._candidates[key] = found
            candidates = found
            if not len(candidates):
                return _EMPTY_DOCS
        assert candidates is not None
        if len(steps) == 1:
            return candidates
        found_docs = candidates
        a = self.a

        def step_keys():
            for j, t in enumerate(taken):
                keep = self._in(found_docs, t.docs)
                post, docs = t.post[keep], t.docs[keep]
                begin = a.pos_ptr[post].astype(np.int64)
                counts = a.pos_ptr[post + 1].astype(np.int64) - begin
                if len(counts) and counts.max() == 1:
                    # Most postings hold one position: no ranges to expand.
                    keys = position_keys(docs, a.positions[begin], j)
                else:
                    keys = position_keys(np.repeat(docs, counts), a.positions[_ranges(begin, counts)], j)
                if not t.single:
                    keys.sort()  # one word's keys are in order already
                yield keys

        return adjacent(step_keys())

    # -- the tree ------------------------------------------------------------------

    def _estimate(self, q) -> int:
        """At least as many documents as ``q`` matches here, cheaply (the
        postings looked up are the ones its evaluation reads)."""
        kind = type(q)
        if kind is wq.Term and q.fieldname == FIELD:
            return self._step((q.text,)).size
        if kind is AnyTerm:
            return self._step(q.words).size
        if kind is AdjacentWords or kind is wq.Phrase:
            steps = q.steps if kind is AdjacentWords else [[w] for w in q.words]
            return min((self._step(step).size for step in steps), default=0)
        if kind in _COMPOUNDS and q.subqueries:
            sizes = [self._estimate(s) for s in q.subqueries]
            return min(sizes) if isinstance(q, wq.And) else sum(sizes)
        if kind is wq.AndNot:
            return self._estimate(q.a)
        if kind is wq.ConstantScoreQuery:
            return self._estimate(q.child)
        return self.n_docs

    def eval(self, q: wq.Query, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Sorted document numbers matching ``q`` in this segment (deletions
        included), and their scores when ``scored``."""
        docs, scores = self._eval(q, scored)
        return docs, scores

    def _eval(self, q, scored):
        empty = (_EMPTY_DOCS, _EMPTY_SCORES if scored else None)
        if q is qcore.NullQuery or isinstance(q, qcore._NullQuery):
            return empty
        kind = type(q)
        if kind is wq.Term:
            if q.fieldname == FIELD:
                docs = self._word_docs(q.text)
                if not scored:
                    return docs, None
                scores = self._word_scores(q.text)
                return docs, (scores * q.boost if q.boost != 1.0 else scores)
            if q.fieldname in CODED_FIELDS:
                value = q.text.encode("utf-8") if isinstance(q.text, str) else q.text
                docs, _ = self._coded(q.fieldname, value, value)
                # An ID field scores its posting weight, 1.0.
                return docs, (np.full(len(docs), 1.0 * q.boost) if scored else None)
            raise Unsupported(f"a term of field {q.fieldname!r}")
        if kind is AdjacentWords:
            if q.fieldname != FIELD:
                raise Unsupported(f"AdjacentWords on {q.fieldname!r}")
            docs = self._adjacent(q.steps)
            return docs, (np.full(len(docs), float(q.boost)) if scored else None)
        if kind is AnyTerm:
            if q.fieldname != FIELD:
                raise Unsupported(f"AnyTerm on {q.fieldname!r}")
            docs = self._step(q.words).unique()
            return docs, (np.full(len(docs), float(q.boost)) if scored else None)
        if kind is wq.Phrase:
            if q.fieldname != FIELD or q.slop != 1:
                raise Unsupported("a phrase other than an exact one on content")
            words = list(q.words)
            if not words:
                return empty
            docs = self._adjacent([[w] for w in words])
            if not scored:
                return docs, None
            # Whoosh scores a phrase as the AND of its words.
            scores = np.zeros(len(docs))
            for w in words:
                word_docs = self._word_docs(w)
                _, at = _contains(word_docs, docs)
                scores = scores + self._word_scores(w)[at]
            return docs, (scores * q.boost if q.boost != 1.0 else scores)
        if kind in _COMPOUNDS:
            subs = list(q.subqueries)
            if not subs:
                return empty
            if isinstance(q, wq.Or) and (q.scale or q.minmatch):  # never built by compile_query
                raise Unsupported("Or with scale or minmatch")
            if len(subs) == 1:
                # Whoosh hands a compound of one straight to its child: no boost.
                return self._eval(subs[0], scored)
            if isinstance(q, wq.And):
                # Rarest first, and nothing more once nothing is left: the
                # other branches of "劳模 工会" are not read when 劳模's
                # spellings match nowhere.
                parts = []
                for sub in sorted(subs, key=self._estimate):
                    part = self._eval(sub, scored)
                    if not len(part[0]):
                        return part
                    parts.append(part)
                docs, scores = self._intersect(parts, scored)
            else:
                docs, scores = self._union([self._eval(s, scored) for s in subs], scored)
            if scored and q.boost != 1.0:
                scores = scores * q.boost
            return docs, scores
        if kind is wq.AndNot:
            docs, scores = self._eval(q.a, scored)
            if not len(docs):
                return docs, scores
            excluded, _ = self._eval(q.b, False)
            hit, _ = _contains(excluded, docs)
            return docs[~hit], (scores[~hit] if scored else None)
        if kind is wq.Not:
            excluded, _ = self._eval(q.query, False)
            mask = np.ones(self.n_docs, dtype=bool)
            mask[excluded] = False
            docs = np.flatnonzero(mask).astype(np.int32)
            # Whoosh's InverseMatcher scores 1.0 and ignores the boost.
            return docs, (np.ones(len(docs)) if scored else None)
        if kind is wq.ConstantScoreQuery:
            docs, _ = self._eval(q.child, False)
            # ListMatcher(all_weights=0.0) reports weight 1.0 in Whoosh 2.7.4.
            return docs, (np.full(len(docs), float(q.score or 1.0)) if scored else None)
        if kind is wq.TermRange:
            if q.fieldname not in CODED_FIELDS:
                raise Unsupported(f"a range of field {q.fieldname!r}")
            low = b"" if q.start is None else q.start.encode("utf-8")
            high = b"\xff\xff\xff\xff" if q.end is None else q.end.encode("utf-8")
            docs, values = self._coded(q.fieldname, low, high, q.startexcl, q.endexcl)
            if not scored:
                return docs, None
            # An OR of one term per value: Whoosh applies the boost only
            # when more than one value matched.
            boost = q.boost if values > 1 else 1.0
            return docs, np.full(len(docs), 1.0 * boost)
        raise Unsupported(f"query type {kind.__name__}")


# -- one per searcher generation --------------------------------------------------

_INDEXES: dict[tuple, IndexArrays] = {}
# How many sets of arrays a process keeps: threads read the newest commit or,
# until their next look, the one before, of one index or a few.
_KEEP = 8
# False merges before answering (tests): the same results, deterministically.
MERGE_IN_BACKGROUND = True
_INDEXES_LOCK = threading.Lock()


def index_arrays(searcher, folder: str | Path | None, merge: bool = False) -> IndexArrays:
    """The arrays under ``searcher``, shared by every thread that sees the same segments.

    With ``merge`` (a long-lived service), the segments are merged into one
    (:func:`indexer.snapshot.obtain`) in a background thread, one per
    entry, while the segments' arrays answer; a one-shot search reads each
    segment's as they are mapped, and pays nothing. A request never waits
    for the merge: the first generation of a process was merged in the
    request's thread, which then waited for another process's build of the
    snapshot, up to its lock's 600 s. (A server's master builds the
    snapshot before it forks, so that its workers map it at once.)

    Kept by what they cover: the folder, and each segment with its number
    of deletions (a segment's deletions only grow, so the count names
    them). Two threads that miss at once may both make them; the first to
    insert wins and the other uses its arrays, merged or not, so that an
    insert never replaces an entry (which may be the merge of the
    segments already) and one merge runs per entry.
    """
    reader = searcher.reader()
    key = (str(folder), segments_of(reader))
    found = _INDEXES.get(key)
    if found is None:
        # A snapshot another process built is mapped at once, without
        # mapping each segment's arrays first.
        shared = snapshot.mapped(folder, leaves(reader)) if merge else None
        made = IndexArrays(searcher, folder, shared)
        with _INDEXES_LOCK:
            found = _INDEXES.get(key)
            if found is None:  # else another thread's, made meanwhile
                # Only the newest few generations are searched: the oldest
                # made goes, never the one a thread is about to use (clear()
                # dropped the current entry, and its merge ran again).
                while len(_INDEXES) >= _KEEP:
                    del _INDEXES[next(iter(_INDEXES))]
                _INDEXES[key] = found = made
    if merge and len(found.leaves) > 1:
        # One merge per entry, whoever made it (a one-shot read in the same
        # process makes it without one).
        with _INDEXES_LOCK:
            start = not found.merge_started and _INDEXES.get(key) is found
            found.merge_started = True
        if start:
            if MERGE_IN_BACKGROUND:
                threading.Thread(target=_merge_later, args=(key, found), daemon=True,
                                 name="zhsearch-merge-arrays").start()
            else:
                _merge_later(key, found)
                return _INDEXES.get(key, found)
    return found


def _merge_later(key: tuple, per_segment: IndexArrays) -> None:
    try:
        one = per_segment.merged()
    except (DamagedArrays, MemoryError, OSError, ValueError):
        return  # the segments' own arrays go on answering
    if one is per_segment:
        return  # no snapshot this time: the segments' arrays stay in use
    with _INDEXES_LOCK:
        if _INDEXES.get(key) is not per_segment:
            return
        _INDEXES[key] = one
    forget([segment for segment, _ in key[1]], key[0])
