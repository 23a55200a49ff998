"""Text normalisation shared by documents and queries.

Every function here keeps the length of the text: character ``i`` of the
normalised text stands for character ``i`` of the original. The index and the
highlighter rely on that to mark the original text at offsets computed on the
normalised one.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# Full-width ASCII (U+FF01..U+FF5E) maps onto ASCII, the ideographic space onto
# a plain space.
FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULLWIDTH[0x3000] = 0x20
# Kangxi radicals, CJK radicals and compatibility ideographs map onto the
# ideograph NFKC gives them, where that is one character: ⾦ (U+2FA6) is 金,
# and a PDF's font may well draw 金 with the radical's code point.
_IDEOGRAPH_RANGES = [(0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
_FOLD = dict(FULLWIDTH)
for _first, _last in _IDEOGRAPH_RANGES:
    for _code in range(_first, _last + 1):
        _folded = unicodedata.normalize("NFKC", chr(_code))
        if len(_folded) == 1 and _folded != chr(_code):
            _FOLD[_code] = ord(_folded)

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, 15.1;
# the BiDi controls U+061C, U+200E-F, U+202A-E and U+2066-9 are among them):
# characters that show nothing. Inside a word they hid it from search
# (劳\u200b模, 工\u202e会), and a U+202E shown in a hit reverses the text
# after it in a browser.
IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def remove_ignorable(text: str) -> str:
    """``text`` without its default-ignorable characters (zero-width, BiDi controls).

    >>> remove_ignorable("劳\u200b模 爱\u200d心\u2060托管 工\u202e会 劳\ufeff模")
    '劳模 爱心托管 工会 劳模'
    """
    return IGNORABLE.sub("", text) if not text.isascii() else text


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _lower_keeping_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters (such as U+0130) lower into two; keep those as they are.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


class _SimplifiedTable(dict):
    """Code point -> its simplified character, filled in as characters are met.

    One character at a time, never by phrase: a phrase rule would convert a
    character in a document (瞭解 -> 了解) differently from the same
    character typed alone as a query (瞭), and the query would not find it.
    """

    def __missing__(self, code: int) -> int:
        converted = _t2s().convert(chr(code))
        self[code] = ord(converted) if len(converted) == 1 else code
        return self[code]


_SIMPLIFIED = _SimplifiedTable()


def normalize_text(text: str) -> str:
    """Full-width to half-width, radicals to ideographs, Latin to lower case,
    traditional to simplified.

    >>> normalize_text("ＩＢＭ２０２３年的勞模")
    'ibm2023年的劳模'
    >>> normalize_text("⾦牌")
    '金牌'

    Default-ignorable characters are kept (the length may not change): the
    words are cut around them (:func:`indexer.analysis.iter_words`).
    """
    text = text.translate(_FOLD)
    text = _lower_keeping_length(text)
    if not text.isascii():
        text = text.translate(_SIMPLIFIED)
    return text
