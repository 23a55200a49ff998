"""Chinese words spelled in pinyin: ``laomo`` → 劳模.

Typing pinyin without switching the input method on is common, and a query
in pinyin matches nothing. The index's own words are keyed by their
toneless pinyin (each character's readings, from pypinyin's dictionary), so
a query that spells one of them is offered that word, the one most passages
hold when several share a spelling.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable

# A word of more characters than this is not keyed: pinyin queries name
# words, not sentences, and the key table stays small.
MAX_CHARS = 6
# Polyphonic characters (行 xing/hang) multiply a word's spellings; past this
# many a word is keyed by its first readings only.
MAX_SPELLINGS = 16
_LETTERS = re.compile(r"[a-z]{2,40}")
# The longest spelling of a keyed word (6 characters of at most 6 letters).
_LONGEST_KEY = 6 * MAX_CHARS


@functools.cache
def _tone_marks() -> dict[int, str]:
    """A translation table from each tone-marked letter of pypinyin's
    dictionary to its plain letter (``ü`` to ``v``, as input methods type it)."""
    from pypinyin.pinyin_dict import pinyin_dict

    marked = {c for readings in pinyin_dict.values() for c in readings if ord(c) > 127}
    plain = {}
    for c in marked:
        letters = unicodedata.normalize("NFD", c)
        plain[c] = "v" if letters.startswith("u\u0308") else letters[0]
    return str.maketrans(plain)


@functools.cache
def _readings(char: str) -> tuple[str, ...]:
    """The toneless readings of one character, the common one first; read
    only for the characters an index holds (5,000 of the dictionary's 41,923)."""
    # Imported here: the dictionary takes a fifth of a second to load, and
    # only a query that found nothing needs it.
    from pypinyin.pinyin_dict import pinyin_dict

    readings = pinyin_dict.get(ord(char))
    if readings is None:
        return ()
    return tuple(dict.fromkeys(readings.translate(_tone_marks()).split(",")))


def spellings(word: str) -> list[str]:
    """The toneless pinyin ``word`` can be typed as, without spaces.

    >>> spellings("劳模")
    ['laomo', 'laomu']
    >>> spellings("ibm")
    []
    """
    per_char = []
    for char in word:
        found = _readings(char)
        if not found:
            return []
        per_char.append(found)
    ways = itertools.islice(itertools.product(*per_char), MAX_SPELLINGS)
    return ["".join(way) for way in ways]


class PinyinKeys:
    """The words of an index by their pinyin spellings.

    >>> keys = PinyinKeys(["劳模", "劳动", "老moment", "爱心托管"])
    >>> keys.words_for("laomo"), keys.words_for("AiXin TuoGuan"), keys.words_for("gonghui")
    (['劳模'], ['爱心托管'], [])
    """

    def __init__(self, words: Iterable[str]):
        self._words: dict[str, list[str]] = {}
        for word in words:
            if 2 <= len(word) <= MAX_CHARS:
                for key in spellings(word):
                    self._words.setdefault(key, []).append(word)

    def words_for(self, text: str) -> list[str]:
        """The words ``text`` spells (letters only, spaces and case ignored)."""
        key = re.sub(r"\s+", "", text).lower()
        return list(self._words.get(key, [])) if _LETTERS.fullmatch(key) else []

    def spell(self, text: str, frequency: Callable[[str], int]) -> str | None:
        """The Chinese ``text`` spells: one word of the index, else the fewest
        words that spell it one after another (``aixintuoguan``: 爱心 托管),
        each the one ``frequency`` ranks first among its homophones.

        >>> PinyinKeys(["爱心", "托管", "劳模"]).spell("aixintuoguan", lambda w: 1)
        '爱心托管'
        """
        key = re.sub(r"\s+", "", text).lower()
        if not _LETTERS.fullmatch(key):
            return None
        # fewest[i]: the fewest words that spell key[:i], and where the last begins.
        fewest: list[tuple[int, int] | None] = [(0, 0)] + [None] * len(key)
        for end in range(1, len(key) + 1):
            for start in range(max(0, end - _LONGEST_KEY), end):
                before = fewest[start]
                if before is not None and key[start:end] in self._words and (
                        fewest[end] is None or before[0] + 1 < fewest[end][0]):  # type: ignore[index]
                    fewest[end] = (before[0] + 1, start)
        if fewest[-1] is None:
            return None
        words, end = [], len(key)
        while end:
            start = fewest[end][1]  # type: ignore[index]
            words.append(max(self._words[key[start:end]], key=lambda w: frequency(w) or 0))
            end = start
        return "".join(reversed(words))


def is_pinyin_like(text: str) -> bool:
    """Letters only, as a pinyin query is typed.

    >>> is_pinyin_like("laomo"), is_pinyin_like("劳模"), is_pinyin_like("2023")
    (True, False, False)
    """
    return bool(_LETTERS.fullmatch(re.sub(r"\s+", "", text).lower()))
