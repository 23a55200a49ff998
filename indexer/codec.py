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

from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, W3Codec, W3PerDocReader, W3PostingsWriter,
                                  _lenfield)
from whoosh.util.numeric import byte_to_length


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


class _PostingsWriter(W3PostingsWriter):
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
