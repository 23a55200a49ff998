"""The words of an index, searchable by substring, prefix and suffix.

A query that jieba cut differently from the text (``贤花`` in ``黎|贤|花``,
``托管`` inside a longer word) is found through the vocabulary: every word that
contains the query, or a run of adjacent words that spells it. The vocabulary
of even a large archive is small (about 114,000 words for 140,000 passages),
so these look-ups take well under a millisecond.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable

from indexer.pinyin import PinyinKeys
from indexer.terms import SortedTerms


# A one-shot command-line search scans the words; a server builds an index
# of them by character (60 ms for 68,000 words) after this many scans.
_SCANS_BEFORE_INDEX = 16


class Vocabulary:
    """Sorted words, with look-ups by substring, prefix and suffix.

    >>> v = Vocabulary(["托管", "托管服务", "爱心", "黎", "贤", "花"])
    >>> v.containing("托管")
    ['托管', '托管服务']
    >>> v.starting_with("托"), v.ending_with("心")
    (['托管', '托管服务'], ['爱心'])
    """

    def __init__(self, words: Iterable[str]):
        self._set = frozenset(words)
        self.words = sorted(self._set)
        self._joined = "\n" + "\n".join(self.words) + "\n"
        self._scans = 0

    @functools.cached_property
    def _reversed(self) -> list[str]:
        # Built on first use: a one-shot command-line search rarely needs it.
        return sorted(w[::-1] for w in self.words)

    @functools.cached_property
    def pinyin(self) -> PinyinKeys:
        """The words by their pinyin spellings; built on first use (0.15 s
        for 44,790 words), only for a query in pinyin that found nothing."""
        return PinyinKeys(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._set

    def __len__(self) -> int:
        return len(self.words)

    @functools.cached_property
    def _by_char(self) -> dict[str, list[str]]:
        """Each character's words, in sorted order."""
        index: dict[str, list[str]] = {}
        for word in self.words:
            for ch in set(word):
                index.setdefault(ch, []).append(word)
        return index

    def containing(self, text: str) -> list[str]:
        if not text:
            return []
        self._scans += 1
        if self._scans > _SCANS_BEFORE_INDEX:
            # The words holding the query's rarest character, tested one by
            # one: 20 us where a scan of every word takes 0.3 ms.
            index = self._by_char
            lists = [index.get(ch, ()) for ch in set(text)]
            fewest = min(lists, key=len)
            return list(fewest) if len(text) == 1 else [w for w in fewest if text in w]
        # str.find over the joined words is ~10x faster than testing each word.
        found = []
        joined = self._joined
        at = joined.find(text)
        while at != -1:
            start = joined.rfind("\n", 0, at) + 1
            end = joined.find("\n", at)
            found.append(joined[start:end])
            at = joined.find(text, end)
        return found

    def starting_with(self, prefix: str) -> list[str]:
        return _with_prefix(self.words, prefix)

    def ending_with(self, suffix: str) -> list[str]:
        return [w[::-1] for w in _with_prefix(self._reversed, suffix[::-1])]


def _with_prefix(sorted_words: list[str], prefix: str) -> list[str]:
    """The words starting with ``prefix``: one slice between two bisections
    (a walk over them took 0.3 ms for a one-character prefix)."""
    if not prefix:
        return list(sorted_words)
    start = bisect.bisect_left(sorted_words, prefix)
    last = ord(prefix[-1])
    if last == 0x10FFFF:
        end = len(sorted_words)
        while end > start and not sorted_words[end - 1].startswith(prefix):
            end -= 1
    else:
        end = bisect.bisect_left(sorted_words, prefix[:-1] + chr(last + 1), start)
    return sorted_words[start:end]


class TermsVocabulary(Vocabulary):
    """A :class:`Vocabulary` read from a term table of numpy arrays (a
    segment's, or the snapshot every server process maps): the same
    answers, without a Python copy of the words in each process. At the
    whole news folder (114,037 words) the copy cost ~30 MB a process:
    the words (~9 MB), their set and sorted list, the joined text, and
    after a few queries the words by character and reversed.

    >>> v = TermsVocabulary(SortedTerms.of_words(["托管", "托管服务", "爱心", "黎", "贤", "花"]))
    >>> v.containing("托管"), "爱心" in v, len(v)
    (['托管', '托管服务'], True, 6)
    >>> v.starting_with("托"), v.ending_with("心")
    (['托管', '托管服务'], ['爱心'])
    """

    def __init__(self, terms: SortedTerms):  # noqa: super().__init__ would copy the words
        self.terms = terms
        self._scans = 0

    @functools.cached_property
    def words(self) -> list[str]:  # type: ignore[override]
        """Every word, in order: made only for the pinyin spellings."""
        return self.terms.words()

    def __contains__(self, word: str) -> bool:
        found = self.terms._found.get(word)  # asked often while a query is compiled
        return (self.terms.find(word) if found is None else found) >= 0

    def __len__(self) -> int:
        return len(self.terms)

    def containing(self, text: str) -> list[str]:
        return self.terms.containing(text)

    def starting_with(self, prefix: str) -> list[str]:
        return self.terms.starting_with(prefix)

    def ending_with(self, suffix: str) -> list[str]:
        return self.terms.ending_with(suffix)
