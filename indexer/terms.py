"""A sorted table of words in numpy arrays, looked up with ``np.searchsorted``.

The words of a segment's arrays file (and of the shared snapshot,
:mod:`indexer.snapshot`) are one NUL-joined UTF-8 blob in byte order, which
is the order ``sorted()`` gives ``str`` (UTF-8 keeps code point order).
This table finds a word in them without a per-process ``dict`` of every
word: each word's first :data:`KEY_BYTES` bytes form a fixed-width ``S16``
array, bisected by ``np.searchsorted``; the rare words longer than that are
told apart by their whole bytes. The same arrays, and the ones for suffixes
and characters (:meth:`SortedTerms.tables`), are stored in the snapshot file
and memory-mapped, so every server process reads one copy.

At the whole news folder (114,037 words) the per-process ``dict`` and
``Vocabulary`` it replaces held ~30 MB of Python objects in each worker.

>>> t = SortedTerms.of_words(["托管", "托管服务", "爱心", "黎"])
>>> t.find("托管"), t.find("托"), t.find("黎")
(0, -1, 3)
>>> t.starting_with("托"), t.ending_with("心"), t.containing("管")
(['托管', '托管服务'], ['爱心'], ['托管', '托管服务'])
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

KEY_BYTES = 16
_KEY = np.dtype(f"S{KEY_BYTES}")
# Words looked up by one process, remembered; a query looks up the same
# words several times (idf, scores, positions). Cleared when full.
_CACHE_WORDS = 1 << 14
# The arrays of a table, as stored in a snapshot file.
TABLE_ARRAYS = ("term_starts", "term_keys", "reversed_ids", "reversed_keys",
                "char_codes", "char_ptr", "char_words")


class UnsortedTerms(ValueError):
    """The words are not in byte order: a table of them would find wrong words."""


def _starts(blob: np.ndarray, count: int) -> np.ndarray:
    """Where each of ``count`` NUL-separated words of ``blob`` starts, and
    one more entry (the blob's length + 1)."""
    if count == 0:
        return np.zeros(1, dtype=np.int64)
    nuls = np.flatnonzero(blob == 0)
    if len(nuls) != count - 1:
        raise UnsortedTerms(f"{len(nuls) + 1} words, the header says {count}")
    starts = np.empty(count + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:-1] = nuls + 1
    starts[-1] = len(blob) + 1
    return starts


def _keys(blob: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The first :data:`KEY_BYTES` bytes of each word, NUL-padded."""
    n = len(starts) - 1
    keys = np.zeros(n, dtype=_KEY)
    if not n:
        return keys
    grid = keys.view(np.uint8).reshape(n, KEY_BYTES)
    begin = starts[:-1]
    lengths = np.diff(starts) - 1
    for k in range(KEY_BYTES):
        has = lengths > k
        grid[has, k] = blob[begin[has] + k]
    return keys


def _prefix_bounds(keys: np.ndarray, prefix: bytes) -> tuple[int, int]:
    """The range of ``keys`` whose words may start with ``prefix``: all of
    them do when the prefix is shorter than a key; else they share its
    first KEY_BYTES - 1 bytes and the caller tests the rest."""
    head = prefix[:KEY_BYTES - 1]
    lo = int(np.searchsorted(keys, np.array(head, dtype=_KEY), "left"))
    # 0xFF is never a byte of UTF-8: it sorts after every continuation.
    hi = int(np.searchsorted(keys, np.array(head + b"\xff", dtype=_KEY), "left"))
    return lo, hi


class SortedTerms:
    """Words in byte order, with their numbers, prefixes, suffixes and characters.

    Built from a NUL-joined blob (a segment's ``terms`` array), or mapped
    from the arrays :meth:`tables` made (a snapshot). Read-only and safe to
    share between threads; the tables for suffixes and characters are
    computed on first use when they were not given.
    """

    def __init__(self, blob: np.ndarray, count: int, tables: dict[str, np.ndarray] | None = None):
        self.blob = blob
        self.count = count
        given = tables or {}
        starts = given.get("term_starts")
        if starts is None:
            starts = _starts(blob, count)
        elif len(starts) != count + 1 or (count and int(starts[-1]) != len(blob) + 1):
            raise UnsortedTerms(f"{len(starts) - 1} word starts, the header says {count}")
        self.starts: np.ndarray = starts
        keys = given.get("term_keys")
        if keys is None:
            keys = _keys(blob, starts)
            if count > 1 and bool(np.any(keys[1:] < keys[:-1])):
                raise UnsortedTerms("the words are not in byte order")
        elif len(keys) != count or keys.dtype != _KEY:
            raise UnsortedTerms("the word keys do not match the words")
        self.keys: np.ndarray = keys
        self._reversed = (given.get("reversed_ids"), given.get("reversed_keys"))
        self._chars = (given.get("char_codes"), given.get("char_ptr"), given.get("char_words"))
        self._found: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_words(cls, words: Iterable[str]) -> SortedTerms:
        """A table of ``words`` (sorted and made distinct here): for the examples and tests."""
        ordered = sorted(set(words))
        blob = np.frombuffer("\0".join(ordered).encode("utf-8"), dtype=np.uint8)
        return cls(blob, len(ordered))

    def __len__(self) -> int:
        return self.count

    # -- words -----------------------------------------------------------------

    def _bytes(self, i: int) -> bytes:
        return bytes(self.blob[int(self.starts[i]):int(self.starts[i + 1]) - 1])

    def word(self, i: int) -> str:
        return self._bytes(i).decode("utf-8")

    def words(self, ids: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """The words numbered ``ids`` (every word when None), decoded in one go."""
        if ids is None:
            return self.span(0, self.count)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) < 8:
            # A few words: sliced one by one (a gather costs ~15 us of numpy calls).
            return [self.word(i) for i in ids.tolist()]
        begin = self.starts[ids].astype(np.int64)
        sizes = self.starts[ids + 1].astype(np.int64) - begin  # each word and its NUL
        total = int(sizes.sum())
        ends = np.cumsum(sizes)
        at = np.repeat(begin - (ends - sizes), sizes) + np.arange(total, dtype=np.int64)
        at = np.minimum(at, len(self.blob) - 1)
        gathered = self.blob[at]
        gathered[ends - 1] = 0  # the last word's NUL lies past the blob
        return gathered[:-1].tobytes().decode("utf-8").split("\0")

    def span(self, lo: int, hi: int) -> list[str]:
        """The words numbered ``lo`` to ``hi - 1``: one slice of the blob."""
        if hi <= lo:
            return []
        return bytes(self.blob[int(self.starts[lo]):int(self.starts[hi]) - 1]).decode(
            "utf-8").split("\0")

    # -- look-ups --------------------------------------------------------------

    def find(self, word: str) -> int:
        """The number of ``word``, or -1."""
        found = self._found.get(word)
        if found is None:
            found = self._search(word.encode("utf-8"))
            if len(self._found) >= _CACHE_WORDS:
                self._found = {}
            self._found[word] = found
        return found

    def find_many(self, words: Iterable[str]) -> np.ndarray:
        """The numbers of ``words`` (-1 for each one absent)."""
        get = self._found.get
        words = list(words)
        found = [get(w) for w in words]  # a query's words are mostly looked up already
        if None in found:
            found = [self.find(w) if i is None else i for w, i in zip(words, found)]
        return np.array(found, dtype=np.int64)

    def _search(self, text: bytes) -> int:
        if not self.count:
            return -1
        key = np.array(text[:KEY_BYTES], dtype=_KEY)
        lo = int(np.searchsorted(self.keys, key, "left"))
        if len(text) < KEY_BYTES:
            # A longer word has a longer key: an equal key is this word.
            return lo if lo < self.count and self.keys[lo] == key else -1
        hi = int(np.searchsorted(self.keys, key, "right"))
        for i in range(lo, hi):
            if self._bytes(i) == text:
                return i
        return -1

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.find(word) >= 0

    def starting_with(self, prefix: str) -> list[str]:
        """The words starting with ``prefix``, in order."""
        if not prefix:
            return self.words()
        raw = prefix.encode("utf-8")
        lo, hi = _prefix_bounds(self.keys, raw)
        found = self.span(lo, hi)
        return found if len(raw) < KEY_BYTES else [w for w in found if w.startswith(prefix)]

    def _reversed_tables(self) -> tuple[np.ndarray, np.ndarray]:
        ids, keys = self._reversed
        if ids is None or keys is None:
            with self._lock:
                tables = self.tables(only=("reversed_ids", "reversed_keys"))
                self._reversed = ids, keys = tables["reversed_ids"], tables["reversed_keys"]
        return ids, keys

    def ending_with(self, suffix: str) -> list[str]:
        """The words ending with ``suffix``, in the order of their reversed spellings."""
        ids, keys = self._reversed_tables()
        if not suffix:
            return self.words(ids)
        raw = suffix[::-1].encode("utf-8")
        lo, hi = _prefix_bounds(keys, raw)
        found = self.words(ids[lo:hi])
        return found if len(raw) < KEY_BYTES else [w for w in found if w.endswith(suffix)]

    def _char_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        codes, ptr, ids = self._chars
        if codes is None or ptr is None or ids is None:
            with self._lock:
                tables = self.tables(only=("char_codes", "char_ptr", "char_words"))
                self._chars = codes, ptr, ids = (tables["char_codes"], tables["char_ptr"],
                                                 tables["char_words"])
        return codes, ptr, ids

    def with_character(self, char: str) -> np.ndarray:
        """The numbers of the words holding ``char``, ascending."""
        codes, ptr, ids = self._char_tables()
        code = ord(char)
        at = int(np.searchsorted(codes, code))
        if at == len(codes) or int(codes[at]) != code:
            return np.zeros(0, dtype=np.int64)
        return ids[int(ptr[at]):int(ptr[at + 1])]

    def containing(self, text: str) -> list[str]:
        """The words holding ``text``, in order: the words of its rarest
        character, tested (20 us where a scan of every word took 0.3 ms)."""
        if not text:
            return []
        fewest = min((self.with_character(ch) for ch in set(text)), key=len)
        found = self.words(fewest)
        return found if len(text) == 1 else [w for w in found if text in w]

    # -- the stored tables -----------------------------------------------------

    def tables(self, only: Sequence[str] = TABLE_ARRAYS) -> dict[str, np.ndarray]:
        """The arrays a snapshot stores for this table (:data:`TABLE_ARRAYS`):
        word starts and keys, word numbers by reversed spelling with their
        keys, and per character (sorted code points) the numbers of its words.
        """
        out: dict[str, np.ndarray] = {}
        if "term_starts" in only:
            out["term_starts"] = self.starts.astype(
                np.uint32 if int(self.starts[-1]) < 2**32 else np.int64)
        if "term_keys" in only:
            out["term_keys"] = np.ascontiguousarray(self.keys)
        words = self.words() if {"reversed_ids", "char_codes"} & set(only) else []
        id_dtype = np.uint32 if self.count < 2**32 else np.int64
        if "reversed_ids" in only or "reversed_keys" in only:
            backwards = [w[::-1] for w in words]
            order = sorted(range(self.count), key=backwards.__getitem__)
            ordered = [backwards[i] for i in order]
            blob = np.frombuffer("\0".join(ordered).encode("utf-8"), dtype=np.uint8)
            out["reversed_ids"] = np.asarray(order, dtype=id_dtype)
            out["reversed_keys"] = _keys(blob, _starts(blob, self.count))
        if "char_codes" in only or "char_ptr" in only or "char_words" in only:
            # Every (character, word) pair once, sorted: in numpy, from the
            # words' code points (a set of Python pairs peaked at 36 MB for
            # the whole folder's 80,571 words).
            points = np.frombuffer("\0".join(words).encode("utf-32-le"), dtype=np.uint32)
            owner = np.cumsum(points == 0)
            pairs = np.unique((points.astype(np.int64) << 32) | owner)
            pairs = pairs[(pairs >> 32) != 0]
            codes = pairs >> 32
            distinct, first = np.unique(codes, return_index=True)
            out["char_codes"] = distinct.astype(np.uint32)
            out["char_ptr"] = np.append(first, len(pairs)).astype(np.int64)
            out["char_words"] = (pairs & 0xFFFFFFFF).astype(id_dtype)
        return {name: out[name] for name in only}
