"""Whoosh 2.7.4's W3 codec, with each segment's field lengths read once and
a term of one posting kept in its term info.

When a segment is written, Whoosh asks for the length of the passage of
every posting it writes (``doc_field_length``, for the block statistics of
its scorer), and the W3 codec answers each call by reading and unpacking a
byte of the lengths column: 301,203 calls, 12 % of the profiled time of
indexing 1.87 MB of news in one process. This codec reads the column once
per segment and field into a list, then answers from the list; the values
are the W3 codec's, one for one.

A term found in one passage only (every passage's ``id``, about half the
words of a segment) has its posting kept in its term info, as the W3
codec's ``inlinelimit`` intends, instead of a block of its own in the
postings file: a block costs a pickle, a zlib stream and 50-60 bytes. Whoosh
2.7.4's writer cannot do it (its ``finish_postings`` calls ``set_inline``;
the method is ``set_inlined``), so this codec's postings writer mends that
one call; every Whoosh 2.7.4 reader reads such a term (``postings_reader``
gives a ``ListMatcher``). Measured on 120 news files (19,137 passages,
48,420 terms, 50,273 blocks before): 30,707 blocks fewer, the segment
21.5 -> 20.2 MB, writing it 8-11 % less CPU. Everything else is the W3
codec's own.

Whoosh pickles the codec into each segment it writes, so this module stays
importable at ``indexer.codec`` (as :mod:`indexer.analysis` does for the
tokenizer); segments written by the plain W3 codec are read as they are.

>>> from whoosh.filedb.filestore import RamStorage
>>> from whoosh.fields import Schema, TEXT
>>> from whoosh.qparser import QueryParser
>>> ix = RamStorage().create_index(Schema(body=TEXT))
>>> with ix.writer(codec=ZhCodec()) as w:
...     w.add_document(body="one two three")
...     w.add_document(body="four")
>>> with ix.reader() as r:
...     [r.doc_field_length(n, "body") for n in range(2)], type(r.codec()).__name__
([3, 1], 'ZhCodec')
>>> with ix.reader() as r:
...     r.term_info("body", "four").is_inlined(), r.term_info("body", "one").is_inlined()
(True, True)
>>> with ix.searcher() as s:
...     [hit.docnum for hit in s.search(QueryParser("body", ix.schema).parse("four"))]
[1]
"""

from __future__ import annotations

import zlib
from pickle import dumps

from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter,
                                  W3PerDocReader, W3PostingsWriter, W3TermInfo, _lenfield)
from whoosh.system import pack_int
from whoosh.util.numeric import byte_to_length, length_to_byte


_UNREAD = object()  # a field whose lengths column was not looked for yet


# Terms with fewer postings than this are kept in their term info.
INLINE_LIMIT = 2


class ZhCodec(W3Codec):
    """The W3 codec, whose per-document reader keeps each field's lengths as
    a list, and which keeps a term of one posting in its term info."""

    def __init__(self, blocklimit: int = 128, compression: int = 3,
                 inlinelimit: int = INLINE_LIMIT):
        super().__init__(blocklimit=blocklimit, compression=compression,
                         inlinelimit=inlinelimit)

    def per_document_reader(self, storage, segment):
        return _PerDocReader(storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)

    def field_writer(self, storage, segment):
        writer = _FieldWriter(self, storage, segment)
        for structfile in (writer._postfile, writer._tindex.dbfile):
            structfile.file = _CountedFile(structfile.file)
        return writer


class _CountedFile:
    """A file written from start to end, whose position is counted instead
    of asked of the system: Whoosh's term table asks for it twice a term,
    and each ``tell()`` of a buffered file is an ``lseek`` (~2.5 us here):
    12 % of the CPU of merging the news folder's 12 segments."""

    def __init__(self, raw):
        self._raw = raw
        self._position = raw.tell()

    def write(self, data) -> int:
        written = self._raw.write(data)
        self._position += written
        return written

    def tell(self) -> int:
        return self._position

    def seek(self, *args) -> int:
        found = self._raw.seek(*args)
        self._position = self._raw.tell()
        return found

    def __getattr__(self, name):
        return getattr(self._raw, name)


# The pickle protocol of postings that hold values (see the module's text).
VALUES_PROTOCOL = 4


def _protocol(values) -> int:
    return VALUES_PROTOCOL if values and any(v is not None for v in values) else 2


def block_bytes(gaps: tuple, weights, values, count: int, last_id: int, top_weight: float,
                min_byte: int, max_byte: int, compression: int, last: bool) -> bytes:
    """One block of a postings file as W3PostingsWriter lays it out: its
    length (negative for a term's last block), the pickled block info (count,
    last id, top weight, compression, length bytes), then the data: the ids
    as gaps, the weights and values as Whoosh minifies them, pickled and
    compressed.

    >>> from whoosh.compat import loads
    >>> b = block_bytes((3, 2), None, None, 2, 5, 1.0, 1, 2, 3, True)
    >>> info = dumps((2, 5, 1.0, 3, 1, 2), 2)
    >>> b[:4] == pack_int(-(len(b) - 4)), loads(zlib.decompress(b[4 + len(info):]))
    (True, ((3, 2), None, None))
    """
    data = dumps((gaps, weights, values), _protocol(values))
    if compression:
        data = zlib.compress(data, compression)
    info = dumps((count, last_id, top_weight, compression, min_byte, max_byte), 2)
    size = len(info) + len(data)
    return pack_int(-size if last else size) + info + data


def inlined_bytes(postings: tuple) -> bytes:
    """The pickle of a term's postings kept in its term info: ``(ids, weights, values)``.

    >>> from whoosh.compat import loads
    >>> loads(inlined_bytes(((7,), (2.0,), (b"\\x00",))))
    ((7,), (2.0,), (b'\\x00',))
    """
    return dumps(postings, _protocol(postings[2]))


def inline_values(values: list[bytes], count: int) -> list[bytes | None]:
    """The values kept with a term's postings in its term info: for a format
    without values (an ID field's ``Existence``), None per posting, as
    Whoosh's block reader gives them; Whoosh's ``ListMatcher.value()`` would
    otherwise give the str ``''``, on which Whoosh's own merge of the
    segment stops (its posting pool takes bytes or None). One byte a posting
    in the pickle; ``b""`` took 35.

    >>> inline_values([], 2), inline_values([b"x"], 1)
    ([None, None], [b'x'])
    """
    return list(values) if values else [None] * count


class _TermInfo(W3TermInfo):
    def to_bytes(self):
        if not self.is_inlined():
            return super().to_bytes()
        head = super().to_bytes()[:self._struct.size]
        return head + inlined_bytes(self._inlined)


class _FieldWriter(W3FieldWriter):
    def start_term(self, btext):
        if self._postwriter is None:
            raise Exception("Called start_term before start_field")
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())


class _PostingsWriter(W3PostingsWriter):
    def _write_block(self, last=False):
        # W3PostingsWriter's own, its bytes made by block_bytes.
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        self._postfile.write(block_bytes(
            self._mini_ids(), self._mini_weights(), self._mini_values(), len(ids), ids[-1],
            self._maxweight, length_to_byte(self._minlength), length_to_byte(self._maxlength),
            self._compression, last))
        self._blockcount += 1
        self._new_block()

    def finish_postings(self):
        if not self.written() and len(self) < self._inlinelimit:
            # W3PostingsWriter's own branch, with the method's right name.
            terminfo = self._terminfo
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, inline_values(self._values, len(self)))
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class _PerDocReader(W3PerDocReader):
    def doc_field_length(self, docnum, fieldname, default=0):
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        tables = self.__dict__.setdefault("_zh_lengths", {})
        table = tables.get(fieldname, _UNREAD)
        if table is _UNREAD:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            # A field with no lengths column (every ID field) is remembered
            # as such: asking the storage again cost 5 os.stat calls per
            # passage written (31,786 for 6,357 passages, ~8 % of indexing).
            # As W3PerDocReader answers: None for a length byte of 0.
            table = tables[fieldname] = (None if reader is None else
                                         [byte_to_length(b) if b else None for b in reader])
        if table is None:
            return default
        return table[docnum] if docnum < len(table) else None
