"""Text normalisation shared by documents and queries.

Every function here keeps the length of the text: character ``i`` of the
normalised text stands for character ``i`` of the original. The index and the
highlighter rely on that to mark the original text at offsets computed on the
normalised one.
"""

from __future__ import annotations

import functools

import opencc

# Full-width ASCII (U+FF01..U+FF5E) maps onto ASCII, the ideographic space onto
# a plain space; everything else stays.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


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
    """Full-width to half-width, Latin to lower case, traditional to simplified.

    >>> normalize_text("ＩＢＭ２０２３年的勞模")
    'ibm2023年的劳模'
    """
    text = text.translate(_FULLWIDTH)
    text = _lower_keeping_length(text)
    if not text.isascii():
        text = text.translate(_SIMPLIFIED)
    return text
