"""Writing a whole Whoosh segment at once, through Whoosh's own codec writers.

Whoosh's ``SegmentWriter`` turns every word of every passage into a posting
tuple, pools and sorts the tuples, then hands them one at a time to the
codec (``add_postings``, a per-posting Python loop, with a length look-up
per posting): about 80 % of the CPU of a ``zhsearch index`` (issue 20). This
module cuts each passage once, with the analysis of the schema's field
(:func:`indexer.analysis.iter_words`, so words and positions are the
field's own), sorts the postings with numpy, writes each field's postings
and term infos at once (:func:`indexer.blocks.write_terms`) into the files
of Whoosh's ``W3FieldWriter``, and the stored fields through Whoosh's
``W3PerDocWriter``. Stock Whoosh 2.7.4 opens them, and
``tests/test_bulkwriter.py`` checks that the segment's files are the bytes
Whoosh's writer makes of the same documents.

The ``.zharrays`` of the segment (:mod:`indexer.arrays_format`) are derived from
the same numpy arrays, with no read-back.

:class:`BulkWriter` is the writer a large commit takes (:func:`open_writer`):
it holds the index's writer lock and applies deletions and merges as
Whoosh's writer does, while forked worker processes, up to one per core,
each write a segment of the documents added; the parent commits the table
of contents with them.

>>> from whoosh.filedb.filestore import RamStorage
>>> from indexer.codec import ZhCodec
>>> from indexer.records import build_schema
>>> ix = RamStorage().create_index(build_schema())
>>> segment, _ = write_segment(ix.storage, ix.indexname, ix.schema, ZhCodec(),
...                            [{"id": "a", "content": "劳模精神，工匠精神"}])
>>> from whoosh.index import TOC
>>> TOC(ix.schema, [segment], 1).write(ix.storage, ix.indexname)
>>> with ix.searcher() as s:
...     [(w, s.doc_frequency("content", w)) for w in ("劳模", "精神")]
[('劳模', 1), ('精神', 1)]
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from array import array
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import Schema
from whoosh.analysis import IDTokenizer
from whoosh.formats import Existence
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import IndexWriter, SegmentWriter

from indexer import arrays_format, bulkmerge
from indexer.analysis import ChineseTextField, iter_words
from indexer.blocks import encode_field, write_terms
from indexer.normalize import normalize_text
from indexer.samestory import fingerprint
from indexer.whoosh_internals import field_length, field_writer_files

__all__ = ["BulkWriteError", "BulkWriter", "open_writer", "write_segment"]

# -- the segment -----------------------------------------------------------------------


class _Postings:
    """Postings of one field gathered while documents are read: per token its
    term number, document and position (a bulk field), or per posting its
    term and document (any other indexed field)."""

    def __init__(self, bulk: bool):
        self.bulk = bulk
        self.ids: dict[str, int] = {}
        self.terms = array("i")
        self.docs = array("i")
        self.positions = array("i")
        self.other: list[tuple[bytes, int, float, bytes]] = []


def _check_field(fieldname: str, field: Any) -> None:
    if field.separate_spelling() or field.vector:
        raise ValueError(f"the bulk writer does not write spelling or vectors ({fieldname})")
    if field.indexed and getattr(field.format, "field_boost", 1.0) != 1.0:
        raise ValueError(f"the bulk writer does not write field boosts ({fieldname})")


def write_segment(storage, indexname: str, schema: Schema, codec: W3Codec,
                  docs: Sequence[dict], arrays: bool = False,
                  segment: Any = None) -> tuple[Any, tuple | None]:
    """Write ``docs`` as one new segment of the index ``indexname``; returns
    the segment (not yet in any table of contents) and, with ``arrays``, the
    header and arrays of its ``.zharrays`` (:func:`indexer.arrays_build.build_arrays`'s).

    Each document is a dict of field values, as for ``add_document``, with
    the same stored values, columns and lengths; ``ChineseTextField`` values
    are cut here with the segmenter in force, every other indexed field by
    its own ``index()``. Field and document boosts are not supported.
    ``segment``, from ``codec.new_segment``, names the files (a new one by default).
    """
    for key in {k for d in docs for k in d}:
        if key.startswith("_"):
            raise ValueError(f"the bulk writer takes no boosts or custom values ({key})")
        if key not in schema:
            raise ValueError(f"no field named {key!r} in the schema")
    if segment is None:
        segment = codec.new_segment(storage, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    fields = {name: schema[name] for name in sorted(schema.names())}
    for name, field in fields.items():
        _check_field(name, field)
    # ID fields that index their whole value as one term (IDTokenizer alone).
    plain_ids = {name for name, field in fields.items()
                 if field.indexed and type(field.analyzer) is IDTokenizer
                 and type(field.format) is Existence}
    gathered: dict[str, _Postings] = {}
    lengths: dict[str, list[int]] = {}  # a scorable field's length per document
    try:
        for docnum, doc in enumerate(docs):
            perdoc.start_doc(docnum)
            for name in sorted(doc):
                value = doc[name]
                if value is None:
                    continue
                field = fields[name]
                length = 0
                if field.indexed:
                    found = gathered.get(name)
                    bulk = isinstance(field, ChineseTextField) and isinstance(value, str)
                    if found is None:
                        found = gathered[name] = _Postings(bulk)
                    if bulk and found.bulk:
                        ids = found.ids
                        count = 0
                        for word, pos, _, _ in iter_words(normalize_text(value)):
                            found.terms.append(ids.setdefault(word, len(ids)))
                            found.positions.append(pos)
                            count += 1
                        found.docs.extend([docnum] * count)
                        length = count if field.scorable else 0
                    elif bulk or found.bulk:
                        raise ValueError(f"field {name} has both text and other values")
                    elif name in plain_ids and isinstance(value, str):
                        # What ID.index() yields for a str, without its Token
                        # and generators: 11 % of writing a segment.
                        found.other.append((value.encode("utf-8"), docnum, 1.0, b""))
                        if field.scorable:
                            length += 1
                    else:
                        for tbytes, freq, weight, vbytes in field.index(value):
                            found.other.append((tbytes, docnum, weight, vbytes))
                            if field.scorable:
                                length += freq
                    if field.scorable:
                        lengths.setdefault(name, [0] * len(docs))[docnum] = length
                perdoc.add_field(name, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
            perdoc.finish_doc()
        perdoc.close()
        segment.set_doc_count(len(docs))
        # What Whoosh's writer passes per posting: the length as the lengths
        # column gives it back (a one-byte approximation; 0 for none).
        coded = {name: np.array([byte_to_length(length_to_byte(n)) if n else 0 for n in values],
                                dtype=np.int64)
                 for name, values in lengths.items()}
        fieldwriter = codec.field_writer(storage, segment)
        derived: dict[str, Any] = {}
        try:
            for name in sorted(gathered):
                found = gathered[name]
                fieldwriter.start_field(name, fields[name])
                if found.bulk:
                    derived[name] = _write_bulk_field(fieldwriter, found, coded.get(name))
                else:
                    derived[name] = _write_other_field(fieldwriter, found, coded.get(name))
                fieldwriter.finish_field()
        finally:
            fieldwriter.close()
    except BaseException:
        if not perdoc.is_closed:
            perdoc.close()
        raise
    if not arrays:
        return segment, None
    return segment, _derive_arrays(segment, docs, derived, coded)


def _write_bulk_field(fieldwriter, found: _Postings, lengths: np.ndarray | None) -> dict:
    """A ChineseTextField's postings, sorted with numpy: terms in byte order,
    documents ascending, positions ascending within each posting."""
    words = list(found.ids)
    btexts = [w.encode("utf-8") for w in words]
    order = sorted(range(len(words)), key=btexts.__getitem__)
    # 32-bit token arrays: a worker's peak is these arrays and the sort's
    # 64-bit permutation (a segment has far fewer than 2**31 words).
    rank = np.empty(len(words), dtype=np.int32)
    rank[order] = np.arange(len(words), dtype=np.int32)
    tok_rank = rank[np.frombuffer(found.terms, dtype=np.int32)] if words else np.zeros(0, np.int32)
    tok_doc = np.frombuffer(found.docs, dtype=np.int32)
    tok_pos = np.frombuffer(found.positions, dtype=np.int32)
    found.terms = found.docs = found.positions = array("i")
    # Tokens arrive by document, positions ascending: a stable sort by term
    # keeps each posting's positions in order.
    by_term = np.argsort(tok_rank, kind="stable")
    # One at a time: each unsorted array goes before the next is sorted.
    tok_rank = tok_rank[by_term]
    tok_doc = tok_doc[by_term]
    tok_pos = tok_pos[by_term]
    del by_term
    n = len(tok_rank)
    starts = np.flatnonzero(np.concatenate(
        ([True], (tok_rank[1:] != tok_rank[:-1]) | (tok_doc[1:] != tok_doc[:-1])))) if n else \
        np.zeros(0, dtype=np.int64)
    freqs = np.diff(np.append(starts, n))
    post_doc = tok_doc[starts]
    post_rank = tok_rank[starts]
    del tok_rank, tok_doc, starts
    values = encode_field(freqs, tok_pos)
    term_ptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bincount(post_rank, minlength=len(words)), out=term_ptr[1:])
    write_terms(fieldwriter, [btexts[i] for i in order], term_ptr, post_doc, freqs, values,
                lengths)
    return {"words": [words[i] for i in order], "term_ptr": term_ptr, "docs": post_doc,
            "freqs": freqs, "positions": tok_pos}


def _write_other_field(fieldwriter, found: _Postings, lengths: np.ndarray | None) -> dict:
    """Postings of any other indexed field (ID fields: a few per document)."""
    found.other.sort(key=lambda p: (p[0], p[1]))
    terms: list[bytes] = []
    docs_of: list[list[int]] = []
    for btext, docnum, _, _ in found.other:
        if not terms or terms[-1] != btext:
            terms.append(btext)
            docs_of.append([])
        docs_of[-1].append(docnum)
    if type(field_writer_files(fieldwriter).format) is Existence and all(
            not v and w == 1.0 for _, _, w, v in found.other):
        term_ptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in docs_of], out=term_ptr[1:])
        docs = np.fromiter((d for ds in docs_of for d in ds), dtype=np.int64,
                           count=int(term_ptr[-1]))
        write_terms(fieldwriter, terms, term_ptr, docs, lengths=lengths)
    else:  # anything but a plain ID field: Whoosh's own per-posting path
        for btext, its in groupby(found.other, key=lambda p: p[0]):
            fieldwriter.start_term(btext)
            for _, docnum, weight, vbytes in its:
                fieldwriter.add(docnum, weight, vbytes or b"",
                                int(lengths[docnum]) if lengths is not None else 0)
            fieldwriter.finish_term()
    return {"terms": terms, "docs": docs_of}


def _derive_arrays(segment, docs: Sequence[dict], derived: dict, coded: dict) -> tuple:
    """The header and arrays :func:`indexer.arrays_build.build_arrays` reads back
    from this segment, from the arrays that wrote it."""
    field = arrays_format.FIELD
    doc_count = len(docs)
    content = derived.get(field)
    if content is not None and "words" in content:
        freqs = content["freqs"]
        positions = content["positions"]
        words = content["words"]
        term_ptr = content["term_ptr"]
        post_docs = content["docs"]
    else:
        freqs = positions = post_docs = np.zeros(0, dtype=np.int64)
        words, term_ptr = [], np.zeros(1, dtype=np.int64)
    pos_ptr = np.zeros(len(post_docs) + 1, dtype=np.int64)
    np.cumsum(freqs, out=pos_ptr[1:])
    values: dict[str, tuple[list[bytes], np.ndarray]] = {}
    for name in arrays_format.CODED_FIELDS:
        found = derived.get(name)
        if found:
            codes = np.full(doc_count, -1, dtype=np.int32)
            for code, term_docs in enumerate(found["docs"]):
                codes[term_docs] = code
            values[name] = (found["terms"], codes)
    return arrays_format.assemble(
        segment.segment_id(), doc_count, field_length(segment, field), words,
        arrays_format.postings_arrays(term_ptr, post_docs, freqs, pos_ptr, positions),
        coded.get(field, np.zeros(doc_count, dtype=np.int64)).astype(np.uint32),
        np.array([fingerprint(d.get(field), d.get("kind")) for d in docs],
                 dtype=np.int64).reshape(doc_count),
        values)

# -- the writer a large commit takes ---------------------------------------------------

# A worker is started as soon as this much text (UTF-8) or this many passages
# are read, so that a large folder is written while it is read, and the
# memory of the parent (the passages it holds, ~4.5 bytes a byte of text)
# and of each worker (~33 bytes a byte of text: its passages, token arrays
# and segment) is bounded by these figures, not by the corpus. What is left
# at the commit is split evenly, a part per core: reading is fast (3.7 s of
# the 2022 news, 9.9 MB), writing is not. Measured peak RSS of a worker
# (write_segment with arrays, the 2022 news, 176 bytes a passage): 245 MB for
# 4.6 MB of text (27,206 passages), 389 MB for 9.0 MB (50,252): ~70 MB for
# the process and dictionaries, then 33 MB per MB. Two workers and the
# parent stay under 1 GB with these bounds (16 MB: ~600 MB a worker); the
# passage count bounds a corpus of tiny passages (a passage costs ~2 KB
# besides its text: its fields, ID postings, stored fields). 4 MB, not 8:
# with 8 the 2022 subset (9.5 MB) had one worker writing 8 MB on one core
# while the parent waited, 12.6-13.8 s; with 4 the parts overlap the
# reading, 7.9-8.2 s (5 MB: 9.1 s; 3 MB: 9.1 s, more parts).
FLUSH_BYTES = 4_000_000
FLUSH_PASSAGES = 50_000


class BulkWriteError(RuntimeError):
    """A worker process failed to write its segment; ``str()`` has its traceback."""


def open_writer(ix, procs: int = 1, **kwargs) -> IndexWriter:
    """The writer of one commit: :class:`BulkWriter` with ``procs`` > 1 (a
    large commit), Whoosh's own ``SegmentWriter`` otherwise. Either merges
    small segments by :func:`indexer.bulkmerge.merge_segments`, never by
    Whoosh's per-posting merge."""
    if procs > 1:
        return BulkWriter(ix, procs=procs, **kwargs)
    writer = ix.writer(**kwargs)
    writer.mergetype = bulkmerge.MERGE_SMALL
    return writer


def _text_bytes(fields: dict) -> int:
    value = fields.get(arrays_format.FIELD)
    return 3 * len(value) if isinstance(value, str) else 0  # UTF-8 of Chinese text


def _split(docs: list[dict], parts: int) -> list[list[dict]]:
    """``docs`` in at most ``parts`` runs of about the same text, in order.

    >>> [len(p) for p in _split([{"content": "字" * n} for n in (1, 1, 1, 3)], 2)]
    [3, 1]
    """
    if not docs:
        return []
    sizes = np.cumsum([_text_bytes(d) + 1 for d in docs])
    # Each part ends with the document that crosses its share.
    cuts = np.searchsorted(sizes, sizes[-1] * np.arange(1, parts) / parts) + 1
    bounds = [0, *sorted(set(int(c) for c in cuts) - {0, len(docs)}), len(docs)]
    return [docs[a:b] for a, b in zip(bounds, bounds[1:])]


class BulkWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter`` (the writer lock, deletions, merges, the
    table of contents), whose added documents are written by
    :func:`write_segment`: in forked worker processes, up to ``procs`` at
    once, every ``flush_bytes`` of text while documents keep coming; at the
    commit, what is left is split in ``procs`` parts, one written by this
    process. The segments keep the order of the documents. A worker is also
    started every ``flush_passages`` documents, however short.

    Deletions and searches see the index as it was when the writer opened,
    as with Whoosh's writers. The segments' ``.zharrays`` are written beside
    them. When a part fails, the commit is cancelled and every file of
    every part is removed: a worker's ``OSError`` (a full disk) is raised
    again as an ``OSError`` of the same errno, anything else as
    :class:`BulkWriteError`.
    """

    def __init__(self, ix, procs: int = 2, flush_bytes: int | None = None,
                 flush_passages: int | None = None, multisegment: bool = True, **kwargs):
        super().__init__(ix, **kwargs)
        self.procs = max(1, procs)
        self.flush_bytes = flush_bytes or FLUSH_BYTES
        self.flush_passages = flush_passages or FLUSH_PASSAGES
        self._pending: list[dict] = []
        self._pending_bytes = 0
        # Named here, before any fork, so that a failed part's files are known.
        self._parts: list[Any] = []  # the segment of each part, in document order
        self._workers: list[tuple[int, Any, Any]] = []  # (part, process, its pipe's end)
        self._written: dict[int, Any] = {}  # part -> segment written
        folder = getattr(self.storage, "folder", None)
        self._arrays_folder = Path(folder) if folder else None

    def add_document(self, **fields) -> None:
        self._check_state()
        self._pending.append(fields)
        self._pending_bytes += _text_bytes(fields)
        if self._pending_bytes >= self.flush_bytes or len(self._pending) >= self.flush_passages:
            self._guarded(self._start_worker, self._take_pending())

    def _take_pending(self) -> list[dict]:
        docs, self._pending, self._pending_bytes = self._pending, [], 0
        return docs

    def _new_part(self) -> int:
        self._parts.append(self.codec.new_segment(self.storage, self.indexname))
        return len(self._parts) - 1

    def _start_worker(self, docs: list[dict]) -> None:
        while len(self._workers) >= self.procs:
            self._collect(self._workers.pop(0))
        part = self._new_part()
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        # Forked: the worker inherits the documents and the segmenter in
        # force (analysis.using); nothing is pickled but its result.
        process = context.Process(target=self._work, args=(part, docs, send), daemon=True)
        process.start()
        send.close()
        self._workers.append((part, process, receive))

    def _write(self, part: int, docs: list[dict]):
        segment, derived = write_segment(self.storage, self.indexname, self.schema, self.codec,
                                         docs, arrays=self._arrays_folder is not None,
                                         segment=self._parts[part])
        if derived is not None and self._arrays_folder is not None:
            try:
                arrays_format.write_file(self._arrays_folder / arrays_format.file_name(segment.segment_id()),
                                    arrays_format.encode(*derived))
            except OSError:
                pass  # derived data: built after the commit instead
        return segment

    def _work(self, part: int, docs: list[dict], send) -> None:
        try:
            result: tuple = ("ok", self._write(part, docs))
        except OSError as error:
            result = ("oserror", (error.errno, error.strerror or str(error)))
        except BaseException:  # noqa: BLE001 - reported to the parent, which fails the commit
            result = ("error", traceback.format_exc())
        try:
            send.send_bytes(pickle.dumps(result))
        finally:
            os._exit(0)

    def _collect(self, worker: tuple[int, Any, Any]) -> None:
        part, process, receive = worker
        try:
            data = receive.recv_bytes()
        except EOFError:
            data = None
        finally:
            receive.close()
            process.join()
        if data is None:
            raise BulkWriteError(f"a worker writing a segment died (exit code {process.exitcode})")
        status, value = pickle.loads(data)
        if status == "oserror":
            raise OSError(*value)
        if status != "ok":
            raise BulkWriteError(f"a worker failed to write its segment:\n{value}")
        self._written[part] = value

    def _guarded(self, step, *args) -> None:
        try:
            step(*args)
        except BaseException:
            self.cancel()
            raise

    def _write_rest(self) -> None:
        parts = _split(self._take_pending(), self.procs)
        while len(parts) > 1:  # a worker's documents are let go once it has them
            self._start_worker(parts.pop(0))
        # The last part is written here, while the workers write theirs.
        if parts:
            part = self._new_part()
            self._written[part] = self._write(part, parts.pop())
        while self._workers:
            self._collect(self._workers.pop(0))

    def commit(self, mergetype=None, optimize=None, merge=None) -> None:
        """Write what is left, merge, commit the table of contents.

        The parts this commit wrote, and the small segments Whoosh's
        ``MERGE_SMALL`` would merge, are merged into one segment per
        :data:`indexer.bulkmerge.MERGE_WORDS` words by
        :func:`indexer.bulkmerge.merge_policy`: a rebuild of 1M passages
        left 28 segments of 50,000 passages, 1,625 MB; merged, one segment
        of 1,428 MB, and a cold search opens one. A ``mergetype`` given is
        Whoosh's to run, and the parts are kept as they are.
        """
        self._check_state()
        self._guarded(self._write_rest)
        parts = [self._written[part] for part in sorted(self._written)]
        if mergetype is None and self.mergetype is None:
            optimize = self.optimize if optimize is None else optimize
            merge = self.merge if merge is None else merge
            finalsegments: list = []
            self._guarded(lambda: finalsegments.extend(bulkmerge.merge_policy(
                self, self.segments, parts, optimize=bool(optimize), merge=bool(merge))))
        else:
            finalsegments = self._merge_segments(mergetype, optimize, merge)
            finalsegments.extend(parts)
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()

    def cancel(self) -> None:
        """Stop the workers, remove every part's files, release the lock."""
        for _, process, receive in self._workers:
            process.kill()
            process.join()
            receive.close()
        self._workers = []
        self._pending = []
        if not self.is_closed:
            super().cancel()
            # The files of every part, their .zharrays, and those this
            # writer's own segment opened: none is in a table of contents.
            prefixes = tuple(f"{s.segment_id()}." for s in [*self._parts, self.newsegment])
            for name in list(self.storage.list()):
                if name.startswith(prefixes):
                    try:
                        self.storage.delete_file(name)
                    except OSError:
                        pass
        self._parts = []
