"""The one module that knows Whoosh 2.7.4's private attributes.

zhsearch writes and reads Whoosh's own files faster than Whoosh's public
interface lets it (a segment's postings a field at a time, a term's blocks
read whole, stored fields copied as bytes), and that needs names Whoosh
keeps private: a reader's terms reader (``_terms``) and per-document reader
(``_perdoc``), a segment's field lengths (``_fieldlengths``), a field
writer's files and codec limits, the block walk of ``W3LeafMatcher``. Each
is reached here through a small named function, so that a new Whoosh
version breaks one file, and a reader finds why each is needed.

The other modules call these functions; ``tests/test_layers.py`` parses
every module of ``indexer/`` and ``web/`` and fails on an access to one of
the private names used here anywhere else. Two exceptions, both subclasses
using their own base classes' attributes: :mod:`indexer.codec` (our
``W3Codec``, field writer, postings writer and per-document reader
subclasses) and :class:`indexer.bulkwriter.BulkWriter`'s calls of
``SegmentWriter``'s protected methods (``self._check_state()`` and the
like) — the test skips accesses on ``self``.

This module imports Whoosh only, nothing of zhsearch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, W3LeafMatcher, W3TermInfo, _lenfield
from whoosh.util.numeric import _length_byte_cache

__all__ = ["FieldWriterFiles", "LENGTH_BYTES", "bm25f_field_b", "field_length",
           "field_writer_files", "is_segment_reader", "lengths_column", "pin_column_files",
           "raw_stored_column", "segments", "set_field_length", "stored_bytes_writer",
           "stored_column", "term_blocks", "term_info_packer", "terms_reader"]

# Whoosh's table of the length each one-byte length stands for (256 ints):
# the bulk writer computes a block's length bytes with numpy from it.
LENGTH_BYTES: list[int] = list(_length_byte_cache)


# -- the index and its segments ------------------------------------------------------


def segments(ix: Any) -> list[Any]:
    """The segments of ``ix``'s newest table of contents, read without
    opening a reader: opening one opens every segment's files, and the
    clean-ups that ask this only need the segments' ids."""
    return list(ix._segments())


def field_length(segment: Any, name: str) -> int:
    """The total length (number of words) of field ``name`` over ``segment``.

    Whoosh's ``Segment`` has no public accessor; its reader's
    ``field_length`` needs an open reader. 0 for a segment that has none
    recorded (one whose per-document writer has not closed).

    >>> class S: _fieldlengths = {"content": 7}
    >>> field_length(S(), "content"), field_length(S(), "title")
    (7, 0)
    """
    return int(getattr(segment, "_fieldlengths", {}).get(name, 0))


def set_field_length(segment: Any, name: str, total: int) -> None:
    """Set field ``name``'s total length on a segment being written: the
    bulk merge keeps the exact totals, where Whoosh's merge totals the
    one-byte approximations (劳模's best score moved 20.643 -> 20.621)."""
    segment._fieldlengths[name] = total


# -- a segment reader's parts -------------------------------------------------------


def terms_reader(leaf: Any) -> Any:
    """The terms reader of a segment reader: its term infos and postings
    file, which :func:`term_blocks` reads block by block."""
    return leaf._terms


def is_segment_reader(leaf: Any) -> bool:
    """Whether ``leaf`` is a plain segment reader of the W3 codec, whose
    column files :func:`stored_column` and :func:`lengths_column` open."""
    return hasattr(getattr(leaf, "_perdoc", None), "_cached_reader")


def stored_column(leaf: Any) -> Any:
    """The stored fields column of a segment reader, its file opened now
    (None: the file is gone, merged away by another process's commit).

    Reading it directly took 56 us a hit off Whoosh's way through the
    searcher and readers. Raises ``AttributeError`` for a reader that is
    not a plain segment reader.
    """
    return leaf._perdoc._cached_reader("_stored", STORED_COLUMN)


def lengths_column(leaf: Any, name: str) -> Any:
    """The per-document lengths column of field ``name`` of a segment
    reader, its file opened now (None when no document has the field):
    a file once open stays readable after a merge deletes it (issue 19)."""
    return leaf._perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)


def raw_stored_column(leaf: Any, coltype: Any) -> Any:
    """The stored fields column of a segment reader read as ``coltype``
    (the bulk merge: as bytes, copied without unpickling; 9.8 -> 7.9 s of
    CPU merging the 2022 segments)."""
    return leaf._perdoc.column_reader("_stored", coltype)


def pin_column_files(leaf: Any) -> frozenset[str] | None:
    """Open every column file of a segment reader's segment now, and have
    its reader answer ``has_column`` from the files opened; returns their
    column names (None: ``leaf`` is not a plain segment reader).

    Whoosh opens a column file on its first read, and asks the folder
    whether it exists before: a merge committed in between deletes it
    (1 of 2,600 soak requests answered 500). A file opened before the
    merge stays readable after it is deleted.
    """
    perdoc = getattr(leaf, "_perdoc", None)
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    if perdoc is None or segment is None or not hasattr(perdoc, "_colfiles"):
        return None
    prefix, suffix = segment.make_filename("."), ".col"
    for name in perdoc._storage.list():
        if name.startswith(prefix) and name.endswith(suffix):
            column = name[len(prefix):-len(suffix)]
            if column not in perdoc._colfiles:
                perdoc._colfiles[column] = perdoc._get_column_file(column)
    pinned = frozenset(perdoc._colfiles)
    perdoc.has_column = pinned.__contains__
    return pinned


# -- a term's postings, block by block -----------------------------------------------


def term_blocks(terms: Any, terminfo: Any, fmt: Any) -> Iterator[tuple[list, list]]:
    """Yield ``(ids, values)`` per block of one term's postings, deletions
    included; ids are deltas from 0 within each block.

    ``terms`` is a terms reader (:func:`terms_reader`). Reads Whoosh
    2.7.4's block data directly: going through the matcher one posting at
    a time takes 3 s per 25,000-passage segment.
    """
    if terminfo.is_inlined():
        ids, _, values = terminfo.inlined_postings()
        ids = list(ids)
        yield [ids[0]] + [b - a for a, b in zip(ids, ids[1:])] if ids else [], values
        return
    offset, length = terminfo.extent()
    m = W3LeafMatcher(terms._postfile, offset, length, fmt)
    while True:
        m._read_data()
        yield m._data[0], m._data[2]
        if m._lastblock:
            return
        m._goto(m._nextoffset)


def term_info_packer() -> Callable[..., bytes]:
    """The ``pack`` of ``W3TermInfo``'s fixed head (inlined flag, weight,
    document frequency, min and max length bytes, max weight, first and
    last document): the bulk writer packs each term's head itself."""
    return W3TermInfo._struct.pack


# -- writing a segment ---------------------------------------------------------------


class FieldWriterFiles(NamedTuple):
    """What the bulk writer needs of Whoosh's ``W3FieldWriter`` to write a
    field's postings and term infos as it would, byte for byte."""

    blocklimit: int  # postings a block
    compression: int  # zlib level of a block
    inlinelimit: int  # a term of fewer postings is kept in its term info
    postfile: Any  # the postings file
    term_table: Any  # the term table (an OrderedHashWriter)
    field_id: int  # the field's number, the prefix of its terms' keys
    format: Any  # the field's postings format (Positions, Existence, ...)


def field_writer_files(fieldwriter: Any) -> FieldWriterFiles:
    """The codec limits, files and current field of a field writer, after
    its ``start_field``: Whoosh's writer took ~37 us a block in Python,
    which :func:`indexer.blocks.write_terms` does in one numpy pass."""
    codec = fieldwriter._codec
    return FieldWriterFiles(codec._blocklimit, codec._compression, codec._inlinelimit,
                            fieldwriter._postfile, fieldwriter._tindex, fieldwriter._fieldid,
                            fieldwriter._format)


def stored_bytes_writer(perdoc: Any) -> Any:
    """The bytes writer under a per-document writer's stored fields column
    (``STORED_COLUMN``: pickled, then compressed): the bulk merge adds each
    document's stored bytes to it as they were."""
    return perdoc._get_column("_stored")._child


# -- scoring -------------------------------------------------------------------------


def bm25f_field_b(weighting: Any) -> dict[str, float]:
    """The per-field ``B`` values of a ``BM25F`` model (``content_B=...``):
    the arrays score with one ``B`` and refuse a model that has any."""
    return dict(weighting._field_B)
