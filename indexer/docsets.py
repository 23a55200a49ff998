"""Queries that match through sets of documents, at a constant score.

A short query string can stand inside thousands of words (``新`` in 新闻,
创新, 新华社 …) or across dozens of pairs of adjacent words. Whoosh's OR
and sequence queries over that many terms keep a heap of thousands of
matchers and take from 0.1 to several seconds; reading each word's document
list once and working with plain sets takes milliseconds.
"""

from __future__ import annotations

import copy

import numpy as np
from whoosh import matching
from whoosh import query as wq

from indexer.phrase import adjacent, position_keys


# A word's documents in one segment, read once and shared by every thread:
# Whoosh's own compound queries read a word's postings again in every branch
# that names it, and each server thread has readers of its own. A segment
# never changes but for deletions, so its id and deletion count name what a
# reader of it sees.
_CACHE: dict[tuple, frozenset[int]] = {}
_CACHE_WORDS = 50000


def _documents(reader, fieldname: str, word: str) -> frozenset[int]:
    segment = reader.segment() if hasattr(reader, "segment") else None
    key = segment and (segment.segment_id(), segment.deleted_count(), fieldname, word)
    found = _CACHE.get(key) if key else None
    if found is None:
        if (fieldname, word) in reader:
            found = frozenset(reader.postings(fieldname, word).all_ids())
        else:
            found = frozenset()
        if key:  # a multi-segment reader is not cached: it has no stable name
            if len(_CACHE) >= _CACHE_WORDS:
                _CACHE.clear()
            _CACHE[key] = found
    return found


class AnyTerm(wq.Query):
    """Documents whose ``fieldname`` holds any of ``words``; each scores ``boost``.

    It matches documents, not positions: use it where adjacency does not
    matter (a word containing the query), never inside a phrase.
    """

    def __init__(self, fieldname: str, words: list[str], boost: float = 1.0):
        self.fieldname = fieldname
        self.words = list(words)
        self.boost = boost

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fieldname!r}, {len(self.words)} words, boost={self.boost})"

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and other.fieldname == self.fieldname
                and other.words == self.words and other.boost == self.boost)

    def __hash__(self) -> int:
        return hash((self.fieldname, tuple(self.words), self.boost))

    def __deepcopy__(self, memo: dict) -> AnyTerm:
        # Query.copy() deep-copies; the word lists are never changed after
        # construction, so a copy shares them (thousands of words for 新).
        new = copy.copy(self)
        memo[id(self)] = new
        return new

    def terms(self, phrases: bool = False):
        for word in self.words:
            yield self.fieldname, word

    def estimate_size(self, ixreader) -> int:
        # Only orders the branches of an AND; the cached sets make it cheap.
        return sum(len(_documents(r, self.fieldname, w))
                   for r, _ in ixreader.leaf_readers() for w in self.words)

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        ids: set[int] = set()
        for word in self.words:
            ids.update(_documents(reader, self.fieldname, word))
        if not ids:
            return matching.NullMatcher()
        return matching.ListMatcher(sorted(ids), all_weights=self.boost)


class AdjacentWords(AnyTerm):
    """Documents where one word of each step stands at consecutive positions.

    ``steps`` is a list of word lists: ``[["黎", "黎贤"], ["贤花"]]`` matches
    黎|贤花 and 黎贤|贤花 … wherever the words are adjacent.
    """

    def __init__(self, fieldname: str, steps: list[list[str]], boost: float = 1.0):
        super().__init__(fieldname, [w for step in steps for w in step], boost)
        self.steps = [list(step) for step in steps]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fieldname!r}, {[len(s) for s in self.steps]}, boost={self.boost})"

    def __eq__(self, other: object) -> bool:
        return (super().__eq__(other) and isinstance(other, AdjacentWords)
                and other.steps == self.steps)

    def __hash__(self) -> int:
        return hash((self.fieldname, tuple(map(tuple, self.steps)), self.boost))

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        field = self.fieldname
        by_word = [{w: _documents(reader, field, w) for w in step} for step in self.steps]
        step_docs = [set().union(*words.values()) for words in by_word]
        candidates = set.intersection(*step_docs) if step_docs else set()
        if not candidates:
            return matching.NullMatcher()
        # Positions of each step in each candidate, read only where needed;
        # the rule itself is indexer.phrase's, as for the arrays.

        def step_keys():
            for j, words in enumerate(by_word):
                docs: list[int] = []
                positions: list[int] = []
                for word, word_docs in words.items():
                    wanted = sorted(word_docs & candidates)
                    if not wanted:
                        continue
                    postings = reader.postings(field, word)
                    for doc in wanted:
                        postings.skip_to(doc)
                        if postings.is_active() and postings.id() == doc:
                            found = postings.value_as("positions")
                            docs.extend([doc] * len(found))
                            positions.extend(found)
                keys = position_keys(np.array(docs, dtype=np.int64),
                                     np.array(positions, dtype=np.int64), j)
                keys.sort()
                yield keys

        matched = adjacent(step_keys()).tolist()
        if not matched:
            return matching.NullMatcher()
        return matching.ListMatcher(matched, all_weights=self.boost)
