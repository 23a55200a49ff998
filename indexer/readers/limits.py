"""What one report file may cost to read: checked while reading, each with its reason.

A reader that meets one of these limits refuses the file with
:class:`~indexer.readers.UnsupportedFile`; none of them is near what a real
report needs. Measured on hostile files (issue 13): without them a 59 KB PDF
of 2 M text operators took 69 s and 5.1 GB, a 1 MB docx of compressed spaces
3.4 GB, an HTML page of 1 M ``<p>`` 8.4 GB, a 20 MB one-line text 3.8 GB.
"""

from __future__ import annotations

# Bytes a zip member (docx) or a PDF stream may inflate to. The largest
# document.xml of a 300-page report measured 6 MB.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
# One page's drawing instructions, inflated; a dense e-paper page has ~1 MB.
MAX_PAGE_CONTENT_BYTES = 8 * 1024 * 1024
# The drawing instructions a page runs, each form XObject counted every time
# it is drawn, bounded as the page's own: a 2.2 KB PDF of 8 nested forms,
# each drawing the next 10 times, asked for 10^8 draws (120 s and 1.6 GB
# before its time ran out). pdfminer parses ~0.3 MB of operators a second.
MAX_PAGE_EXECUTED_BYTES = MAX_PAGE_CONTENT_BYTES
# Operators one page runs, through every nested form: the pages of a 36-page
# manual run at most 876 each. pdfminer runs 100,000-200,000 simple ones a
# second, so the limit is a few seconds of a page.
MAX_PAGE_OPERATORS = 500_000
# Forms and images one page draws: each form drawn costs a copy of the
# interpreter and a figure kept in the layout (the 8-level bomb ran
# 330,000 of them in 18 s before the operator limit).
MAX_PAGE_FIGURES = 10_000
# Text-showing operators (Tj, TJ, ', ") on one page: pdfplumber keeps ~4 KB
# per character; a full newspaper page has about 15,000 characters.
MAX_PAGE_TEXT_OPERATORS = 100_000
MAX_PAGE_CHARS = 60_000
MAX_PAGES = 2_000
# Runs and their text pieces (<w:r>, <w:t>, <w:tab>, <w:br>, <w:cr>) in a
# .docx body: python-docx spends ~40 us on each, and a 175 KB docx of 1.5 M
# runs (60 MB of XML) took 118 s and 986 MB. A run is usually two pieces.
MAX_DOCX_PIECES = 400_000
# Paragraphs (passages) of one file; the daily news files have ~100.
MAX_PARAGRAPHS = 100_000
# HTML elements of one page; a long article page has a few thousand.
MAX_HTML_ELEMENTS = 100_000
# Lines of a text or Markdown file: a hard-wrapped report with a blank line
# after every line of 40 characters reaches it at 20 M characters. (A text
# of 1 M one-character paragraphs took the plain-text reflow 98 s.)
MAX_LINES = 1_000_000
# One line of a text or Markdown file; hard-wrapped reports have < 100.
MAX_LINE_CHARS = 1_000_000
# The whole text of one file: 30 M characters is a 10,000-page book.
MAX_TEXT_CHARS = 30_000_000
# A passage longer than this is cut at sentence ends into passages of at
# most this many characters, so that one hit never carries megabytes.
MAX_PASSAGE_CHARS = 5_000


def megabytes(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"
