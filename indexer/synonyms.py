"""Synonyms and abbreviations: 劳模 ↔ 劳动模范, 职代会 ↔ 职工代表大会.

A file holds one group per line, words separated by white space; ``#``
starts a comment. Every word of a group finds the others.

``synonyms.dic`` is an operator's file, read by every server worker: it is
bounded (:data:`MAX_SYNONYMS_BYTES`, :data:`MAX_SYNONYMS_LINES`,
:data:`MAX_GROUP_WORDS`), read in time linear in its size, and read again
after an edit on a thread of its own, never by a search.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from indexer.errors import ZhsearchError
from indexer.normalize import normalize_text

BUNDLED_SYNONYMS = Path(__file__).with_name("data") / "synonyms.txt"

# Bounds of synonyms.dic. Each synonym of a query word becomes one more term
# of the query, so a word's synonyms are bounded in all (over every group it
# is in), as well as a group's size; a thesaurus's groups hold a handful.
MAX_SYNONYMS_BYTES = 1024 * 1024
MAX_SYNONYMS_LINES = 100_000
MAX_GROUP_WORDS = 100

# How long a search that notices an edited file waits for it to be read
# before it goes on with the groups read before (the README promises that an
# edit counts within a second).
WAIT_FOR_EDIT_SECONDS = 1.0


class SynonymsError(ZhsearchError, ValueError):
    """A synonyms file that cannot be used (too large, a group too large, not UTF-8)."""

    default_code = "bad_synonyms"
    # The corpus's file is wrong, not the request: no search answers until it is fixed.
    status = 503


class Synonyms:
    """Word → its other forms.

    Each word keeps the numbers of its groups, not a list of its synonyms:
    one group of n words then costs n entries, where a list per word cost n²
    entries and, with the membership test on a list, n³ steps (a group of
    1,000 words took 7.8 s, 2,000 words 51 s).

    >>> Synonyms.from_lines(["劳模 劳动模范"]).of("勞模")
    ['劳动模范']
    >>> Synonyms.from_lines(["劳模 劳动模范", "劳模 先进个人 劳动模范"]).of("劳模")
    ['劳动模范', '先进个人']
    """

    def __init__(self, groups: Iterable[Iterable[str]]):
        self._groups: list[list[str]] = []
        self._member: dict[str, list[int]] = {}
        for group in groups:
            words = list(dict.fromkeys(normalize_text(w) for w in group))
            if len(words) < 2:
                continue
            number = len(self._groups)
            self._groups.append(words)
            for word in words:
                self._member.setdefault(word, []).append(number)

    @classmethod
    def from_lines(cls, lines: Iterable[str], name: str = "synonyms.dic") -> Synonyms:
        """The groups of ``lines``; SynonymsError past :data:`MAX_GROUP_WORDS`
        words in a group, or synonyms of one word in all.

        >>> try:
        ...     Synonyms.from_lines(["劳模 " + " ".join(f"w{i}" for i in range(100))])
        ... except SynonymsError as error:
        ...     print(error.code, error)
        bad_synonyms synonyms.dic, line 1: a group of 101 words; at most 100
        """
        groups: list[list[str]] = []
        _parse(lines, name, groups, {})
        return cls(groups)

    @classmethod
    def load(cls, *paths: Path) -> Synonyms:
        """The bundled groups plus those of each existing file in ``paths``."""
        groups: list[list[str]] = []
        others: dict[str, int] = {}
        for path in (BUNDLED_SYNONYMS, *paths):
            text = _read(Path(path))
            if text is not None:
                _parse(text.splitlines(), Path(path).name, groups, others)
        return cls(groups)

    @classmethod
    def watching(cls, path: Path, every: float = 1.0) -> Callable[[], Synonyms]:
        """A function returning the groups of the bundled list and ``path``,
        read again when ``path`` changed (looked at most every ``every`` seconds):
        a running server sees an edited ``synonyms.dic``.

        The file is read on a thread of its own. A search that finds the file
        changed waits at most :data:`WAIT_FOR_EDIT_SECONDS` for it, then goes
        on with the groups read before; only the very first read is waited
        for. A file that cannot be used raises its SynonymsError until fixed.
        """
        state: dict = {"key": None, "checked": float("-inf"), "synonyms": None,
                       "error": None, "loading": None}
        lock = threading.Lock()

        def stamp() -> tuple | None:
            try:
                stat = path.stat()
                return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            except OSError:
                return None

        def read(key: tuple | None, done: threading.Event) -> None:
            try:
                synonyms, error = cls.load(path), None
            except SynonymsError as failed:
                synonyms, error = None, failed
            except Exception as failed:  # noqa: BLE001 - said, never a dead thread
                synonyms, error = None, SynonymsError(f"cannot read {path.name}: {failed}")
            with lock:
                if error is None:
                    state["synonyms"] = synonyms
                state["error"], state["key"], state["loading"] = error, key, None
            done.set()

        def start(key: tuple | None) -> threading.Event:
            # Under ``lock``: at most one reading at a time.
            done = threading.Event()
            state["loading"] = done
            threading.Thread(target=read, args=(key, done), name="synonyms", daemon=True).start()
            return done

        with lock:
            start(stamp())

        def current() -> Synonyms:
            now = time.monotonic()
            waiting = None
            with lock:
                if now - state["checked"] >= every:
                    state["checked"] = now
                    key = stamp()
                    if key != state["key"] and state["loading"] is None:
                        start(key)
                waiting = state["loading"]
                first = state["synonyms"] is None and state["error"] is None
            if waiting is not None:
                waiting.wait(None if first else WAIT_FOR_EDIT_SECONDS)
            with lock:
                if state["error"] is not None:
                    raise state["error"]
                return state["synonyms"]
        return current

    def of(self, word: str) -> list[str]:
        """The other words of every group ``word`` is in, in the order of the file."""
        word = normalize_text(word)
        others: dict[str, None] = {}
        for number in self._member.get(word, ()):
            for other in self._groups[number]:
                if other != word:
                    others[other] = None
        return list(others)


def _parse(lines: Iterable[str], name: str, groups: list[list[str]],
           others: dict[str, int]) -> None:
    """Adds the groups of ``lines`` to ``groups``, counting each word's
    synonyms in ``others``; SynonymsError past the bounds."""
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        if len(words) > MAX_GROUP_WORDS:
            raise SynonymsError(f"{name}, line {number}: a group of {len(words):,} words; "
                                f"at most {MAX_GROUP_WORDS}")
        group = list(dict.fromkeys(normalize_text(w) for w in words))
        for word in group:
            # An upper bound of the word's synonyms (groups may share words).
            others[word] = others.get(word, 0) + len(group) - 1
            if others[word] > MAX_GROUP_WORDS:
                raise SynonymsError(f"{name}, line {number}: {word} has more than "
                                    f"{MAX_GROUP_WORDS} synonyms over its groups")
        groups.append(group)


def _read(path: Path) -> str | None:
    """The text of a synonyms file, None when there is none; SynonymsError
    when it is too large, has too many lines or is not UTF-8."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            data = file.read(min(size, MAX_SYNONYMS_BYTES) + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SynonymsError(f"{path.name} is a folder, not a file") from None
    except OSError as error:
        raise SynonymsError(f"cannot read {path.name}: {error.strerror}") from None
    if len(data) > MAX_SYNONYMS_BYTES:
        raise SynonymsError(f"{path.name} is larger than {MAX_SYNONYMS_BYTES // 1024:,} KB")
    if data.count(b"\n") > MAX_SYNONYMS_LINES:
        raise SynonymsError(f"{path.name} has more than {MAX_SYNONYMS_LINES:,} lines")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SynonymsError(f"{path.name} is not UTF-8 text (byte {error.start})") from None
