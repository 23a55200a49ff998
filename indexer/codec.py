"""Whoosh 2.7.4's W3 codec, with each segment's field lengths read once.

When a segment is written, Whoosh asks for the length of the passage of
every posting it writes (``doc_field_length``, for the block statistics of
its scorer), and the W3 codec answers each call by reading and unpacking a
byte of the lengths column: 301,203 calls, 12 % of the profiled time of
indexing 1.87 MB of news in one process. This codec reads the column once
per segment and field into a list, then answers from the list; the values
are the W3 codec's, one for one. Everything else is the W3 codec's own.

Whoosh pickles the codec into each segment it writes, so this module stays
importable at ``indexer.codec`` (as :mod:`indexer.analysis` does for the
tokenizer); segments written by the plain W3 codec are read as they are.

>>> from whoosh.filedb.filestore import RamStorage
>>> from whoosh.fields import Schema, TEXT
>>> ix = RamStorage().create_index(Schema(body=TEXT))
>>> with ix.writer(codec=ZhCodec()) as w:
...     w.add_document(body="one two three")
...     w.add_document(body="four")
>>> with ix.reader() as r:
...     [r.doc_field_length(n, "body") for n in range(2)], type(r.codec()).__name__
([3, 1], 'ZhCodec')
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length


_UNREAD = object()  # a field whose lengths column was not looked for yet


class ZhCodec(W3Codec):
    """The W3 codec, whose per-document reader keeps each field's lengths as a list."""

    def per_document_reader(self, storage, segment):
        return _PerDocReader(storage, segment)


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
