"""Synonyms and abbreviations: 劳模 ↔ 劳动模范, 职代会 ↔ 职工代表大会.

A file holds one group per line, words separated by white space; ``#``
starts a comment. Every word of a group finds the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from indexer.normalize import normalize_text

BUNDLED_SYNONYMS = Path(__file__).with_name("data") / "synonyms.txt"


class Synonyms:
    """Word → its other forms.

    >>> Synonyms.from_lines(["劳模 劳动模范"]).of("勞模")
    ['劳动模范']
    """

    def __init__(self, groups: list[list[str]]):
        self._others: dict[str, list[str]] = {}
        for group in groups:
            words = list(dict.fromkeys(normalize_text(w) for w in group))
            for word in words:
                known = self._others.setdefault(word, [])
                known.extend(w for w in words if w != word and w not in known)

    @classmethod
    def from_lines(cls, lines) -> Synonyms:
        groups = []
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) > 1:
                groups.append(words)
        return cls(groups)

    @classmethod
    def load(cls, *paths: Path) -> Synonyms:
        """The bundled groups plus those of each existing file in ``paths``."""
        lines: list[str] = []
        for path in (BUNDLED_SYNONYMS, *paths):
            if Path(path).is_file():
                lines.extend(Path(path).read_text(encoding="utf-8-sig").splitlines())
        return cls.from_lines(lines)

    @classmethod
    def watching(cls, path: Path, every: float = 1.0) -> Callable[[], Synonyms]:
        """A function returning the groups of the bundled list and ``path``,
        read again when ``path`` changed (looked at most every ``every`` seconds):
        a running server sees an edited ``synonyms.dic``."""
        state: dict = {"key": None, "checked": float("-inf"), "synonyms": None}
        lock = threading.Lock()

        def current() -> Synonyms:
            now = time.monotonic()
            if now - state["checked"] >= every or state["synonyms"] is None:
                try:
                    stat = path.stat()
                    key: tuple | None = (stat.st_size, stat.st_mtime_ns)
                except OSError:
                    key = None
                with lock:
                    if state["synonyms"] is None or key != state["key"]:
                        state["synonyms"], state["key"] = cls.load(path), key
                    state["checked"] = now
            return state["synonyms"]
        return current

    def of(self, word: str) -> list[str]:
        return list(self._others.get(normalize_text(word), []))
