"""Decode the bytes of a text file: UTF-8 (with or without BOM), GB18030/GBK, Big5.

Only real text encodings are ever used (:func:`text_codec`): Python also has
codecs such as ``unicode_escape`` and ``utf-7`` that turn a few ASCII bytes
into lone surrogates, which no later step can encode.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from indexer.errors import UnsupportedFile
from indexer.readers.limits import MAX_LINE_CHARS, MAX_LINES, MAX_TEXT_CHARS

# The encodings a page may declare (Python's names), after the WHATWG
# Encoding Standard: what browsers decode. Everything else - utf-7,
# unicode_escape, punycode, idna, base64, the UTF-16/32 family (which a page
# cannot declare in its own ASCII bytes) - is ignored, and the bytes guessed.
TEXT_CODECS = frozenset({
    "utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950",
    "euc_jp", "shift_jis", "cp932", "iso2022_jp", "euc_kr", "cp949",
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8",
    "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "iso8859-1",
    "koi8-r", "koi8-u", "cp866", "cp874", "tis-620", "mac-roman",
})
# A line longer than the limit, found without splitting the text; anchored
# at line starts so that the search stays linear.
_LONG_LINE = re.compile(r"^[^\n]{%d}" % (MAX_LINE_CHARS + 1), re.MULTILINE)


def text_codec(label: str) -> str | None:
    """Python's codec for an encoding label, or None unless it is a text encoding.

    >>> text_codec("GBK"), text_codec("utf8"), text_codec("unicode_escape"), text_codec("utf-7")
    ('gbk', 'utf-8', None, None)
    """
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None
    return name if name in TEXT_CODECS else None


def check_text_size(text: str, name: str, lines: bool = True) -> str:
    """``text`` unchanged, or a refusal when it is larger than any report (or,
    with ``lines``, has a line longer than any report's)."""
    if len(text) > MAX_TEXT_CHARS:
        raise UnsupportedFile(
            name, f"more than {MAX_TEXT_CHARS:,} characters of text; split it into smaller reports",
            code="too_much_text")
    if lines and text.count("\n") >= MAX_LINES:
        raise UnsupportedFile(
            name, f"more than {MAX_LINES:,} lines: split it into smaller reports",
            code="too_many_lines")
    if lines and len(text) > MAX_LINE_CHARS and _LONG_LINE.search(text):
        raise UnsupportedFile(
            name, f"a line of more than {MAX_LINE_CHARS:,} characters: not a text report",
            code="line_too_long")
    return text

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# The encodings Chinese reports come in; the detector only chooses among them,
# since on short Chinese text an open-ended guess often lands on a Cyrillic
# or Korean code page.
_CHINESE_ENCODINGS = ["gb18030", "big5"]


def _looks_binary(data: bytes) -> bool:
    """More than 1 % control bytes (NUL included) in the first 64 KB."""
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(sample) * 0.01


# Line ends, spaces and tabs as UTF-16 code units: what every text has, and a
# code unit that means something else in the other byte order (U+0A00,
# U+2000). Zero bytes alone say little: Chinese text in UTF-16LE has them on
# both sides (一 U+4E00 and 开 U+5F00 end in one, newlines start with one).
_UTF16_SPACES = frozenset(b"\n\r \t")
# A few stray NUL bytes in text (a bad copy, an editor's slip): at most one
# in a thousand bytes. More, and it is UTF-16 or not text.
_STRAY_NULS = 1 / 1000


def utf16_byte_order(sample: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``sample`` reads as UTF-16 text
    without a byte-order mark: its spaces and line ends stand as code units
    of one byte order and none of the other.

    >>> utf16_byte_order("第一条\\n劳模 工匠\\n".encode("utf-16-le"))
    'utf-16-le'
    >>> utf16_byte_order("劳模\\r\\n".encode("utf-16-be")), utf16_byte_order("劳模\\n".encode())
    ('utf-16-be', None)
    """
    little = big = 0
    for low, high in zip(sample[0::2], sample[1::2]):
        if high == 0 and low in _UTF16_SPACES:
            little += 1
        elif low == 0 and high in _UTF16_SPACES:
            big += 1
    if little and not big:
        return "utf-16-le"
    if big and not little:
        return "utf-16-be"
    return None


def _utf16_text(data: bytes) -> str | None:
    """The text of UTF-16 ``data`` without a byte-order mark, or None when it is not."""
    codec = utf16_byte_order(data[:65536])
    if codec is None:
        return None
    try:
        text = data[:len(data) // 2 * 2].decode(codec)
    except UnicodeDecodeError:  # a lone surrogate: not UTF-16 text
        return None
    sample = text[:32768]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\f\r\x1b")
    return None if controls > len(sample) * 0.01 else text


def decode_text(data: bytes, name: str, lines: bool = True) -> str:
    """The text of a file, with line ends turned into ``\\n``.

    Refuses text larger than a report can be; with ``lines``, also a line
    longer than a report's (an HTML page may well be one long line).
    """
    return check_text_size(_decode(data, name), name, lines)


def _decode(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _newlines(data.decode(encoding, errors="replace"))
    nuls = data.count(0, 0, 65536)
    stray = nuls <= len(data[:65536]) * _STRAY_NULS
    if nuls and not (stray and _is_utf8(data)):
        # UTF-16 without its byte-order mark: a whole Chinese text looked binary.
        utf16 = _utf16_text(data)
        if utf16 is not None:
            return _newlines(utf16.replace("\x00", ""))
    if not stray:
        raise UnsupportedFile(name, "looks like a binary file, not text", code="binary_file")
    # One NUL made a 16 KB Chinese text "binary": stray ones are dropped.
    data = data.replace(b"\x00", b"")
    if _looks_binary(data):
        raise UnsupportedFile(name, "looks like a binary file, not text", code="binary_file")
    try:
        return _newlines(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        # A file cut off inside its last character is still UTF-8: keep the rest.
        if error.reason == "unexpected end of data" and error.start >= len(data) - 3:
            return _newlines(data[:error.start].decode("utf-8"))
    decodable = []
    for encoding in _CHINESE_ENCODINGS:
        try:
            data.decode(encoding)
            decodable.append(encoding)
        except UnicodeDecodeError:
            continue
    if len(decodable) > 1:
        best = from_bytes(data, cp_isolation=decodable).best()
        decodable = [best.encoding] if best is not None else decodable
    if not decodable:
        raise UnsupportedFile(
            name, "cannot tell its text encoding (save it as UTF-8, GB18030 or Big5)",
            code="unknown_encoding")
    return _newlines(data.decode(decodable[0]))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
