"""Punctuation that ends sentences and clauses, and what closes them.

One home for each set. The readers and the highlighter each take a named
variant, and each variant says here how it differs from the base sets and
why (issue 21: four sets of sentence ends, none derived from another).

>>> "…" in SENTENCE_ENDS, "…" in PASSAGE_CUTS, "；" in FRAGMENT_ENDS
(True, False, True)
>>> set(QUOTE_CLOSERS) <= set(CLOSERS)
True
"""

from __future__ import annotations

import re

# Full stops, Chinese and Latin, question and exclamation marks.
STOPS = "。！？!?"
# A sentence ends at a stop or at an ellipsis (a line that ends in ……).
SENTENCE_ENDS = STOPS + "…"
COMMAS = "，,"
SEMICOLONS = "；;"
# Where a clause ends: a line ending here runs on into the next.
CLAUSE_ENDS = COMMAS + "、" + SEMICOLONS + "：:"
# Quotes and brackets that close a sentence after its stop (``。”``).
QUOTE_CLOSERS = "”’」』）)"
CLOSERS = QUOTE_CLOSERS + "\"'》〉】]"

# -- the variants --------------------------------------------------------------

# Where a passage over 5,000 characters is cut (readers.split_long): after a
# stop, a semicolon or a line end, never after …, which in Chinese also
# trails off inside a sentence (……).
PASSAGE_CUTS = STOPS + SEMICOLONS + "\n"
# What a byline never holds (readers.reflow): a sentence or clause end; but
# 、 between names (记者 张三、李四) and ： after a role (记者：张三) it may.
NOT_IN_BYLINE = SENTENCE_ENDS + COMMAS + SEMICOLONS
# Where the highlighter cuts a passage into sentence-sized fragments: a stop or
# a semicolon with the quotes after it (a semicolon closes a list item, the
# unit a snippet shows); not …, for the reason above.
FRAGMENT_ENDS = STOPS + SEMICOLONS


def char_class(chars: str) -> str:
    """A regular-expression class of ``chars``.

    >>> re.fullmatch(char_class(SEMICOLONS) + "+", "；;") is not None
    True
    """
    return "[" + re.escape(chars) + "]"


# A PDF text block that ends a sentence, before straight or curly quotes and
# brackets (readers.pdf: a block without one is a heading). Straight quotes
# count there, where PDF text often has them; guillemets and 】 do not end a
# block's sentence.
PDF_SENTENCE_END = re.compile(char_class(SENTENCE_ENDS) + char_class("'\"" + QUOTE_CLOSERS) + "*$")
