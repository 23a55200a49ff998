"""Decode the bytes of a text file: UTF-8 (with or without BOM), GB18030/GBK, Big5."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from indexer.errors import UnsupportedFile

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
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(sample) * 0.01


def decode_text(data: bytes, name: str) -> str:
    """The text of a file, with line ends turned into ``\\n``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _newlines(data.decode(encoding, errors="replace"))
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


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
