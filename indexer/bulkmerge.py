"""Merging Whoosh segments through the bulk path: merge the arrays, emit one segment.

Whoosh merges segments by feeding every posting of every segment back into
its writer's posting pool (``SegmentWriter.add_reader``): the per-posting
Python loop that was 80 % of indexing (issue 11's profile). This module
merges segments the way :mod:`indexer.bulkwriter` writes one:

- the per-document data (stored fields, columns, lengths) document by
  document, as Whoosh's ``write_per_doc`` does, deleted documents dropped;
- the ``content`` field's postings from the segments' ``.zharrays``
  (:mod:`indexer.arrays_format`), merged with numpy: terms in byte order,
  documents renumbered, positions re-encoded as Whoosh's pickles
  (:func:`indexer.blocks.encode_positions`) and handed to Whoosh's
  ``W3FieldWriter`` a block at a time;
- every other indexed field's postings (ID fields) term by term, a
  streaming merge of the segments' term lists;
- the new segment's ``.zharrays`` from the merged arrays, with no read-back.

The files are the codec's, written by its own code: stock Whoosh 2.7.4
opens them, and ``tests/test_bulkmerge.py`` checks that the merged segment
holds what Whoosh's own merge of the same segments holds.

:func:`merge_policy` chooses what to merge at a commit: the segments
Whoosh's ``MERGE_SMALL`` would merge, plus the segments a
:class:`~indexer.bulkwriter.BulkWriter` commit wrote, in tiers of at most
:data:`MERGE_WORDS` words each. :func:`MERGE_SMALL` is the same choice as a
Whoosh merge policy, for Whoosh's own writer.

>>> from whoosh.filedb.filestore import RamStorage
>>> from indexer.bulkwriter import write_segment
>>> from indexer.codec import ZhCodec
>>> from indexer.records import build_schema
>>> ix = RamStorage().create_index(build_schema())
>>> a, _ = write_segment(ix.storage, ix.indexname, ix.schema, ZhCodec(),
...                      [{"id": "a", "content": "劳模精神"}])
>>> b, _ = write_segment(ix.storage, ix.indexname, ix.schema, ZhCodec(),
...                      [{"id": "b", "content": "工匠精神"}])
>>> merged, _ = merge_segments(ix.storage, ix.indexname, ix.schema, ZhCodec(), [a, b])
>>> from whoosh.index import TOC
>>> TOC(ix.schema, [merged], 1).write(ix.storage, ix.indexname)
>>> with ix.searcher() as s:
...     [(w, s.doc_frequency("content", w)) for w in ("劳模", "精神")]
[('劳模', 1), ('精神', 2)]
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import columns
from whoosh.fields import Schema
from whoosh.formats import Existence
from whoosh.reading import SegmentReader
from whoosh.util import fib
from whoosh.util.numeric import byte_to_length, length_to_byte

from indexer import arrays_build, arrays_format, arrays_merge, postings
from indexer.blocks import encode_field, write_terms
from indexer.whoosh_internals import (field_length, raw_stored_column, set_field_length,
                                       stored_bytes_writer, terms_reader)

__all__ = ["MERGE_SMALL", "MERGE_WORDS", "OPTIMIZE", "SEGMENTS_PER_TIER", "merge_policy", "merge_segments", "tiers"]

# The most words (positions of the content field, a bound on its postings)
# one merge takes. A merge holds its output arrays and maps its inputs'
# (~11 bytes a posting each), with Whoosh's writers: merging the 28 parts of
# a 1M-passage rebuild (32.0M words, 27.4M postings) into one peaked at
# 1,153 MB RSS, ~250 MB + 28 bytes a word; at this bound ~1.4 GB, under
# issue 20's 1.5 GB. A larger corpus is left in segments of this size.
MERGE_WORDS = 40_000_000

# A commit's new parts are merged only when the index would otherwise hold
# more segments than this (Lucene's TieredMergePolicy keeps 10 a tier):
# merging is one core's work after the workers are done, 7 s a 50,000
# passages (the 2022 subset's three parts: 23 -> 30 s of CPU for a
# rebuild), and a few segments cost a search little; the 54 parts of a
# 1M-passage rebuild cost 200 MB of index and a second of cold search. 16,
# not 10: the whole news folder's rebuild writes 12-13 parts of 4 MB
# (bulkwriter.FLUSH_BYTES); merged, it took 55.6 s, kept, 33.5 s (12
# segments, 336 MB against 293 MB merged; cold search 0.58 s). With the
# postings pickled with protocol 4 and terms of one posting inlined
# (indexer.codec), the 12 segments hold 287 MB; merging them is 14.9 s of
# CPU on one core.
SEGMENTS_PER_TIER = 16

# Postings re-encoded at a time (a run of whole terms): the encoding's
# temporaries are ~90 bytes a posting.
_WRITE_CHUNK = 1 << 16


# -- choosing ----------------------------------------------------------------------


def _words(segment: Any) -> int:
    return field_length(segment, arrays_format.FIELD)


def _all_deleted(segment: Any) -> bool:
    return segment.doc_count_all() > 0 and segment.deleted_count() >= segment.doc_count_all()


def whoosh_small(segments: Sequence[Any]) -> list[Any]:
    """The segments Whoosh 2.7.4's ``MERGE_SMALL`` would merge (its
    Fibonacci rule over the segments sorted by size), in index order."""
    chosen: list[Any] = []
    total = 0
    found = False
    for i, seg in enumerate(sorted(segments, key=lambda s: s.doc_count_all())):
        total += max(0, seg.doc_count_all())
        chosen.append(seg)
        if i > 3 and total < fib(i + 5):
            found = True
            break
    if not found or len(chosen) < 2:
        return []
    ids = {id(s) for s in chosen}
    return [s for s in segments if id(s) in ids]


def tiers(segments: Sequence[Any], bound: int | None = None) -> list[list[Any]]:
    """``segments`` in consecutive runs of at most ``bound`` words (a
    segment larger than the bound alone).

    >>> class S:
    ...     def __init__(self, n): self._fieldlengths = {"content": n}
    >>> [[s._fieldlengths["content"] for s in run] for run in tiers([S(3), S(4), S(5), S(9)], 8)]
    [[3, 4], [5], [9]]
    """
    bound = MERGE_WORDS if bound is None else bound
    runs: list[list[Any]] = []
    size = 0
    for seg in segments:
        words = _words(seg)
        if runs and size + words <= bound:
            runs[-1].append(seg)
            size += words
        else:
            runs.append([seg])
            size = words
    return runs


def merge_policy(writer: Any, segments: Sequence[Any], new: Sequence[Any] = (),
                 optimize: bool = False, merge: bool = True) -> list[Any]:
    """The segments of the next table of contents: ``segments`` (the
    index's, with this writer's deletions) and ``new`` (written by this
    commit), with the segments Whoosh's ``MERGE_SMALL`` would merge (all
    with ``optimize``, none without ``merge``) merged by
    :func:`merge_segments` in tiers of at most :data:`MERGE_WORDS` words,
    and the new ones with them when the index would otherwise hold more
    than :data:`SEGMENTS_PER_TIER` segments.
    A segment whose every document is deleted is dropped. Files of a
    merge that fails are removed; the commit is the caller's."""
    live = [s for s in segments if not _all_deleted(s)]
    if optimize:
        old = live
    elif merge:
        old = whoosh_small(live)
    else:
        old = []
    picked = {id(s) for s in old}
    kept = [s for s in live if id(s) not in picked]
    folder = getattr(writer.storage, "folder", None)
    fresh = [s for s in new if not _all_deleted(s)]
    if not optimize and len(kept) + bool(old) + len(fresh) <= SEGMENTS_PER_TIER:
        merging, fresh = old, fresh  # few segments: the new parts stay as written
    else:
        merging, fresh = [*old, *fresh], []
    # Merged segments go where Whoosh's merge puts its segment: after the others.
    for run in tiers(merging):
        if len(run) == 1 and not run[0].has_deletions():
            kept.append(run[0])
            continue
        segment, _ = merge_segments(writer.storage, writer.indexname, writer.schema, writer.codec,
                                    run, Path(folder) if folder else None)
        if segment is not None:
            kept.append(segment)
    return kept + fresh


def MERGE_SMALL(writer: Any, segments: Sequence[Any]) -> list[Any]:
    """Whoosh's ``MERGE_SMALL`` policy (the same segments chosen) done by
    :func:`merge_segments`: set as a Whoosh writer's ``mergetype``."""
    return merge_policy(writer, segments)


# -- merging -----------------------------------------------------------------------


def merge_segments(storage: Any, indexname: str, schema: Schema, codec: Any,
                   segments: Sequence[Any], folder: Path | None = None
                   ) -> tuple[Any, tuple | None]:
    """Write the live documents of ``segments``, in order, as one new
    segment; returns it (in no table of contents yet, None when no document
    is left) and the header and arrays of its ``.zharrays``, written into
    ``folder`` when one is given. The inputs' arrays are read from
    ``folder`` (built there first when missing). The new segment's files
    are removed when the merge fails."""
    readers = [SegmentReader(storage, schema, s) for s in segments]
    segment = codec.new_segment(storage, indexname)
    try:
        result = _merge(storage, schema, codec, readers, segment, folder)
    except BaseException as error:
        _remove_files(storage, segment)
        if isinstance(error, _Empty):
            return None, None
        raise
    finally:
        for reader in readers:
            reader.close()
        # The inputs' arrays are read no more (their files go with the commit).
        postings.forget([s.segment_id() for s in segments], folder)
    if folder is not None:
        try:
            arrays_format.write_file(folder / arrays_format.file_name(segment.segment_id()),
                                     arrays_format.encode(*result))
        except OSError:
            pass  # derived data: built after the commit instead
    return segment, result


def _remove_files(storage: Any, segment: Any) -> None:
    prefix = f"{segment.segment_id()}."
    for name in list(storage.list()):
        if name.startswith(prefix):
            try:
                storage.delete_file(name)
            except OSError:
                pass


def _merge(storage: Any, schema: Schema, codec: Any, readers: list, segment: Any,
           folder: Path | None) -> tuple:
    names = sorted(schema.names())
    docmaps, lengths = _merge_documents(storage, schema, codec, readers, segment, names)
    doc_count = segment.doc_count_all()
    if doc_count == 0:
        raise _Empty
    arrays = [postings.segment_arrays(r, folder) for r in readers]
    fieldwriter = codec.field_writer(storage, segment)
    content = arrays_merge.merge_postings(arrays, docmaps)
    codes: dict[str, tuple[list[bytes], np.ndarray]] = {}
    try:
        for name in names:
            field = schema[name]
            if not field.indexed:
                continue
            if name == arrays_format.FIELD:
                if len(content.words):
                    _write_content(fieldwriter, name, field, content, lengths.get(name))
            else:
                found = _merge_other(fieldwriter, name, field, readers, docmaps,
                                     lengths.get(name), doc_count)
                if name in arrays_format.CODED_FIELDS:
                    codes[name] = found
    finally:
        fieldwriter.close()
    return _derive(segment, doc_count, content, codes, arrays, docmaps)


# Whoosh's stored-fields column is a pickle, compressed, in a column of
# bytes: read as bytes, the compressed pickle is copied whole.
_RAW = columns.VarBytesColumn()


class _Empty(Exception):
    """No live document: no segment."""


def _merge_documents(storage: Any, schema: Schema, codec: Any, readers: list, segment: Any,
                     names: list[str]) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Stored fields, columns and lengths of every live document, as
    Whoosh's ``write_per_doc`` copies them; returns each segment's map of
    old to new document numbers (-1: deleted) and each scorable field's
    lengths as Whoosh's scorer sees them."""
    perdoc = codec.per_document_writer(storage, segment)
    scorable = [n for n in names if schema[n].scorable]
    lengths: dict[str, list[int]] = {n: [] for n in scorable}
    docmaps: list[np.ndarray] = []
    new = 0
    try:
        for reader in readers:
            docmap = np.full(reader.doc_count_all(), -1, dtype=np.int64)
            cols = {}
            for name in names:
                coltype = schema[name].column_type
                if coltype and reader.has_column(name):
                    creader = reader.column_reader(name, coltype)
                    if isinstance(creader, columns.TranslatingColumnReader):
                        creader = creader.raw_column()
                    cols[name] = (creader, coltype)
            # Each document's stored fields are copied as they are, compressed
            # and pickled: copying the bytes instead of unpickling and pickling
            # again took the merge of the 2022 segments (50,618 passages) from
            # 9.8 to 7.9 s of CPU.
            stored = raw_stored_column(reader, _RAW)
            # W3PerDocWriter made its column (STORED_COLUMN: pickled, then
            # compressed); its bytes writer under both takes the bytes.
            add_stored = stored_bytes_writer(perdoc)
            for docnum in reader.all_doc_ids():
                docmap[docnum] = new
                perdoc.start_doc(new)
                for name in lengths:
                    length = reader.doc_field_length(docnum, name) or 0
                    lengths[name].append(byte_to_length(length_to_byte(length)) if length else 0)
                    if length:
                        perdoc.add_field(name, schema[name], None, length)
                for name, (creader, coltype) in cols.items():
                    perdoc.add_column_value(name, coltype, creader[docnum])
                raw = stored[docnum]
                if raw:
                    columns.VarBytesColumn.Writer.add(add_stored, new, raw)
                perdoc.finish_doc()
                new += 1
            docmaps.append(docmap)
    finally:
        perdoc.close()
    segment.set_doc_count(new)
    # Whoosh's merge totals the one-byte approximations of the lengths, and
    # every score moved (劳模's best 20.643 -> 20.621 on the test corpus):
    # the segments' exact totals are kept instead, less the approximate
    # lengths of the deleted documents (exact when none is deleted).
    for name in scorable:
        total = 0
        for reader, docmap in zip(readers, docmaps):
            total += int(reader.field_length(name))
            for docnum in np.flatnonzero(docmap < 0).tolist():
                total -= reader.doc_field_length(docnum, name) or 0
        set_field_length(segment, name, max(0, total))
    return docmaps, {n: np.array(v, dtype=np.int64) for n, v in lengths.items()}


def _write_content(fieldwriter: Any, name: str, field: Any, content: arrays_merge.MergedPostings,
                   lengths: np.ndarray | None) -> None:
    """The merged content postings through Whoosh's field writer, a run of
    whole terms (about :data:`_WRITE_CHUNK` postings) re-encoded at a time."""
    words = content.words
    ptr = content.term_ptr.tolist()
    docs, freqs, pos_ptr, positions = content.docs, content.freqs, content.pos_ptr, content.positions
    fieldwriter.start_field(name, field)
    t = 0
    while t < len(words):
        end = t + 1
        while end < len(words) and ptr[end + 1] - ptr[t] <= _WRITE_CHUNK:
            end += 1
        a, b = ptr[t], ptr[end]
        values = encode_field(freqs[a:b].astype(np.int64),
                              positions[int(pos_ptr[a]):int(pos_ptr[b])])
        write_terms(fieldwriter, [w.encode("utf-8") for w in words[t:end]],
                    content.term_ptr[t:end + 1], docs, freqs, values, lengths, values_first=a)
        t = end
    fieldwriter.finish_field()


def _field_terms(readers: list, name: str, fmt: Any, plain: bool
                 ) -> Iterator[tuple[bytes, int, np.ndarray | None]]:
    """``(term, segment, its documents)`` of a field over every segment, in
    term order then segment order (the documents of an ``Existence`` field
    only). Read as each term is reached: Whoosh's terms reader changes a
    term's info in place when it moves on."""
    def run(i: int, terms: Any) -> Iterator[tuple[bytes, int, np.ndarray | None]]:
        for btext, info in arrays_build._field_items(terms, name):
            yield btext, i, arrays_build._term_ids(terms, info, fmt) if plain else None

    runs = [run(i, terms_reader(reader)) for i, reader in enumerate(readers)
            if name in terms_reader(reader).indexed_field_names()]
    return heapq.merge(*runs, key=lambda item: (item[0], item[1]))


def _merge_other(fieldwriter: Any, name: str, field: Any, readers: list,
                 docmaps: list[np.ndarray], lengths: np.ndarray | None, doc_count: int
                 ) -> tuple[list[bytes], np.ndarray]:
    """Any other indexed field, term by term: an ``Existence`` field (every
    ID field) gathered and written at once, any other by Whoosh's
    per-posting path. Returns the field's terms with postings and each
    document's code."""
    plain = type(field.format) is Existence
    names: list[bytes] = []
    codes = np.full(doc_count, -1, dtype=np.int32)
    gathered: list[np.ndarray] = []  # a plain field's documents, term by term
    started = False
    for btext, group in groupby(_field_terms(readers, name, field.format, plain),
                                key=lambda item: item[0]):
        items = list(group)
        if plain:
            parts = [docmaps[i][ids] for _, i, ids in items]
            docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            docs = docs[docs >= 0]
            if not len(docs):
                continue
            gathered.append(docs)
        else:
            found = []
            for _, i, _ in items:
                m = readers[i].postings(name, btext)
                while m.is_active():
                    new = int(docmaps[i][m.id()])
                    if new >= 0:
                        found.append((new, m.weight(), m.value()))
                    m.next()
            if not found:
                continue
            if not started:
                fieldwriter.start_field(name, field)
                started = True
            fieldwriter.start_term(btext)
            for new, weight, value in found:
                fieldwriter.add(new, weight, value or b"",
                                int(lengths[new]) if lengths is not None else 0)
            fieldwriter.finish_term()
            docs = np.array([f[0] for f in found], dtype=np.int64)
        codes[docs] = len(names)
        names.append(btext)
    if gathered:
        term_ptr = np.zeros(len(gathered) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in gathered], out=term_ptr[1:])
        fieldwriter.start_field(name, field)
        write_terms(fieldwriter, names, term_ptr, np.concatenate(gathered), lengths=lengths)
        started = True
    if started:
        fieldwriter.finish_field()
    return names, codes


def _derive(segment: Any, doc_count: int, content: arrays_merge.MergedPostings, codes: dict,
            parts: list[arrays_format.SegmentArrays], docmaps: list[np.ndarray]) -> tuple:
    """The header and arrays :func:`indexer.arrays_build.build_arrays` would read
    back from the merged segment, from the merged arrays."""
    keep = [docmap >= 0 for docmap in docmaps]
    return arrays_format.assemble(
        segment.segment_id(), doc_count, field_length(segment, arrays_format.FIELD),
        content.words,
        arrays_format.postings_arrays(content.term_ptr, content.docs, content.freqs,
                                      content.pos_ptr, content.positions),
        np.concatenate([p.lengths[k] for p, k in zip(parts, keep)]).astype(np.uint32, copy=False),
        np.concatenate([p.fingerprints[k] for p, k in zip(parts, keep)]).astype(
            np.int64, copy=False),
        codes)


def OPTIMIZE(writer: Any, segments: Sequence[Any]) -> list[Any]:
    """Whoosh's ``OPTIMIZE`` policy (every segment merged) done by
    :func:`merge_segments`, in tiers of :data:`MERGE_WORDS` words."""
    return merge_policy(writer, segments, optimize=True)
