"""“Did you mean”: the closest word the index holds for a query word it lacks.

Chinese typos are mostly homophones picked from the input method's list
(劳摸 for 劳模), so a candidate one character away that sounds the same ranks
first, then by how many passages hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from indexer.analysis import has_chinese
from indexer.normalize import normalize_text
from indexer.pinyin import is_pinyin_like
from indexer.query import parse_query
from indexer.vocabulary import Vocabulary


def _sound(text: str) -> list[str]:
    # Imported here: pypinyin's dictionaries take a quarter of a second to load,
    # and only a query that found nothing needs them.
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def one_character_away(word: str, vocab: Vocabulary) -> list[str]:
    """Words of the index as long as ``word`` that differ in one character."""
    found: set[str] = set()
    for i in range(len(word)):
        head, tail = word[:i], word[i + 1:]
        pool = vocab.starting_with(head) if head else vocab.ending_with(tail)
        found.update(w for w in pool if len(w) == len(word) and w.startswith(head)
                     and w.endswith(tail) and w != word)
    return sorted(found)


def closest_word(word: str, vocab: Vocabulary, frequency: Callable[[str], int]) -> str | None:
    candidates = one_character_away(word, vocab)
    if not candidates:
        return None
    sound = _sound(word)
    return max(candidates, key=lambda w: (_sound(w) == sound, frequency(w)))


def suggest(query: str, vocab: Vocabulary, frequency: Callable[[str], int]) -> str | None:
    """The query with each Chinese term the index lacks replaced by its
    closest word, and each term in pinyin by the word of the index it spells.

    >>> v = Vocabulary(["劳模", "劳动", "工会"])
    >>> suggest("劳摸 工会", v, {"劳模": 3, "劳动": 50}.get)
    '劳模 工会'
    >>> suggest("laomo", v, {"劳模": 3}.get), suggest("laomo gonghui", v, {}.get)
    ('劳模', '劳模 工会')
    """
    changed = query
    for group in parse_query(query):
        for part in group:
            word = re.sub(r"\s+", "", normalize_text(part.text))
            if not part.phrase and is_pinyin_like(word) and word not in vocab:
                spelled = vocab.pinyin.spell(word, frequency)
                if spelled:
                    changed = changed.replace(part.text, spelled, 1)
                continue
            if part.phrase or not has_chinese(word) or word in vocab or len(word) > 8:
                continue
            better = closest_word(word, vocab, lambda w: frequency(w) or 0)
            if better:
                changed = changed.replace(part.text, better, 1)
    return changed if changed != query else None
