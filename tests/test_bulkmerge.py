"""Segment merges through the bulk path (indexer.bulkmerge) against Whoosh's own merge.

The segment :func:`merge_segments` makes of segments with deleted documents
holds what Whoosh's ``add_reader`` merge of the same segments holds: terms,
postings, stored fields, lengths, the same answers through stock
``QueryParser``, and the same arrays (its ``.zharrays``, derived without
reading back). A commit merges the parts it wrote, in tiers; small segments
are merged without Whoosh's per-posting path; a merge killed midway leaves
the index as it was.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh import writing
from whoosh.index import TOC

from indexer import arrays_build, arrays_format, bulkmerge, bulkwriter, integrity, postings
from indexer import store as store_module
from indexer.bulkwriter import write_segment
from indexer.codec import ZhCodec
from indexer.records import build_schema
from indexer.store import Store
from tests.test_bulkwriter import (BUNDLED_CORPUS, _answers, _indexed, _segments,  # noqa: F401
                                   assert_arrays_equal, documents, generated_news,
                                   lengths_of, postings_of, results_of, segment_files)




def three_segments(folder: Path, docs: list[dict]) -> whoosh_index.Index:
    """An index of ``docs`` in three segments written by the bulk writer, with their arrays."""
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), build_schema())
    n = len(docs)
    segments = []
    for a, b in [(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]:
        segment, derived = write_segment(ix.storage, ix.indexname, ix.schema, ZhCodec(),
                                         docs[a:b], arrays=True)
        arrays_format.write_file(folder / arrays_format.file_name(segment.segment_id()),
                            arrays_format.encode(*derived))
        segments.append(segment)
    TOC(ix.schema, segments, 1).write(ix.storage, ix.indexname)
    return whoosh_index.open_dir(str(folder))


def merged_with(ix: whoosh_index.Index, policy, deleted: list[str]) -> whoosh_index.Index:
    writer = ix.writer(codec=ZhCodec(), compound=False)
    for doc_id in deleted:
        writer.delete_by_term("id", doc_id)
    writer.commit(mergetype=policy)
    return whoosh_index.open_dir(ix.storage.folder)


@pytest.mark.slow
def test_the_bulk_merged_segment_holds_what_whooshs_merge_writes(documents, tmp_path):
    # Every 7th passage deleted (file records among them): the merge drops
    # them and renumbers the rest, as Whoosh's does.
    deleted = [d["id"] for d in documents[::7]]
    before = three_segments(tmp_path / "whoosh", documents)
    with before.reader() as reader:
        exact_total = reader.field_length("content")
        deleted_lengths = sum(reader.doc_field_length(n, "content") or 0
                              for n in range(len(documents)) if documents[n]["id"] in deleted)
    whoosh_ix = merged_with(before, writing.OPTIMIZE, deleted)
    bulk_ix = merged_with(three_segments(tmp_path / "bulk", documents), bulkmerge.OPTIMIZE,
                          deleted)
    with whoosh_ix.reader() as expected, bulk_ix.reader() as got:
        assert got.is_atomic() and expected.is_atomic()
        assert got.doc_count_all() == expected.doc_count_all() == len(documents) - len(deleted)
        assert list(got.all_terms()) == list(expected.all_terms())
        expected_postings = postings_of(expected)
        assert max(len(p) for p in expected_postings.values()) > 128  # terms of several blocks
        assert postings_of(got) == expected_postings
        assert [got.stored_fields(n) for n in range(got.doc_count_all())] == \
            [expected.stored_fields(n) for n in range(expected.doc_count_all())]
        got_lengths, expected_lengths = lengths_of(got), lengths_of(expected)
        # Whoosh's merge totals the lengths' one-byte approximations; the
        # bulk merge keeps the exact total, less the deleted passages'.
        names = got.schema.names()
        at = names.index("content")
        assert got_lengths.pop("total")[at] == exact_total - deleted_lengths
        assert expected_lengths.pop("total")[at] != exact_total - deleted_lengths
        assert got_lengths == expected_lengths
        built, expected_built = arrays_build.build_arrays(got), arrays_build.build_arrays(expected)
        assert built[0]["field_length"] == exact_total - deleted_lengths
        expected_built[0]["field_length"] = built[0]["field_length"]
        assert_arrays_equal(built, expected_built)
        # The merged segment's arrays file, derived from the merged arrays.
        written = arrays_format.load_file(tmp_path / "bulk" / arrays_format.file_name(
            got.segment().segment_id()), postings.expected(got))
        assert_arrays_equal(_as_built(written), built)
    # The same passages found, in the same order, with scores that differ
    # only by the average length.
    got_results, expected_results = results_of(bulk_ix), results_of(whoosh_ix)
    assert any(expected_results.values())
    for query, hits in expected_results.items():
        assert sorted(h for h, _ in got_results[query]) == sorted(h for h, _ in hits), query
        assert dict(got_results[query]) == pytest.approx(dict(hits), rel=0.05), query
    # The codec wrote both from the same blocks: the postings, terms and
    # columns are the same bytes. (Stored fields differ in the order of a
    # record's keys only: Whoosh's merge takes the field names from a set.)
    bulk_files, whoosh_files = segment_files(tmp_path / "bulk"), segment_files(tmp_path / "whoosh")
    for ext in ("pst", "trm", "_content_len.col", "date.col", "source.col"):
        assert bulk_files[ext] == whoosh_files[ext], ext
    # The merged segments' files are gone with them, their arrays too.
    assert sorted(p.name for p in (tmp_path / "bulk").glob("*.zharrays")) == \
        [arrays_format.file_name(bulk_ix.reader().segment().segment_id())]


def _as_built(loaded: arrays_format.SegmentArrays) -> tuple[dict, dict]:
    """An arrays file's header and arrays, as :func:`arrays_build.build_arrays` returns them."""
    header = {k: v for k, v in loaded.header.items() if k not in ("version", "arrays", "body_size")}
    arrays = {"term_ptr": loaded.term_ptr, "docs": loaded.docs, "freqs": loaded.freqs,
              "pos_ptr": loaded.pos_ptr, "positions": loaded.positions, "lengths": loaded.lengths,
              "fingerprints": loaded.fingerprints, "terms": loaded._terms_blob}
    for name in arrays_format.CODED_FIELDS:
        arrays[f"{name}_codes"] = loaded.codes[name]
        arrays[f"{name}_names"] = loaded._names_blobs[name]
    return header, arrays


def test_a_merge_of_only_deleted_documents_leaves_no_segment(documents, tmp_path):
    ix = three_segments(tmp_path / "index", documents[:30])
    ix = merged_with(ix, bulkmerge.OPTIMIZE, [d["id"] for d in documents[:30]])
    assert ix.doc_count_all() == 0 and ix._segments() == []
    assert [p.name for p in (tmp_path / "index").glob("MAIN_*.*") if p.suffix != ".toc"] == []


# -- merges at a commit -----------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in BUNDLED_CORPUS.iterdir():
        shutil.copy(path, folder / path.name)
    generated_news(folder)
    return folder


def _words(store: Store) -> list[int]:
    with store.open_index(create=False).reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()] if not reader.is_atomic() else [reader]
        return [int(leaf.field_length("content")) for leaf in leaves]


@pytest.mark.slow
def test_a_bulk_commit_merges_its_parts_in_tiers_of_bounded_size(corpus, tmp_path, monkeypatch):
    plain = Store(corpus, tmp_path / "plain-index")
    plain.sync()  # Whoosh's writer: one segment
    # A worker every 60 kB of text: several parts, kept while they are few.
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(bulkwriter, "FLUSH_BYTES", 60_000)
    few = Store(corpus, tmp_path / "few-index")
    few.sync()
    assert 1 < len(_segments(few)) <= bulkmerge.SEGMENTS_PER_TIER
    # More parts than a tier holds (here: more than one): merged.
    monkeypatch.setattr(bulkmerge, "SEGMENTS_PER_TIER", 1)
    whole = Store(corpus, tmp_path / "whole-index")
    whole.sync()
    assert len(_segments(whole)) == 1
    assert _indexed(whole) == _indexed(plain)
    assert _answers(whole) == _answers(plain)
    assert integrity.check(whole, deep=True) == []
    # Tiers of at most a third of the words: each merge holds no more.
    bound = sum(_words(plain)) // 3
    monkeypatch.setattr(bulkwriter, "FLUSH_BYTES", 15_000)
    monkeypatch.setattr(bulkmerge, "MERGE_WORDS", bound)
    tiered = Store(corpus, tmp_path / "tiered-index")
    tiered.sync()
    words = _words(tiered)
    assert 3 <= len(words) < 8 and max(words) <= bound, words
    assert _indexed(tiered) == _indexed(plain)
    assert _answers(tiered) == _answers(plain)
    assert integrity.check(tiered, deep=True) == []
    assert {p.name for p in tiered.index_dir.glob("*.zharrays")} == \
        {arrays_format.file_name(s) for s in _segments(tiered)}


@pytest.mark.slow
def test_small_segments_are_merged_without_whooshs_per_posting_merge(corpus, tmp_path,
                                                                    monkeypatch):
    def per_posting_merge(*args, **kwargs):
        raise AssertionError("Whoosh's add_reader merge ran")

    monkeypatch.setattr(writing.SegmentWriter, "add_reader", per_posting_merge)
    (tmp_path / "small").mkdir()
    store = Store(tmp_path / "small", tmp_path / "index")
    files = sorted(corpus.glob("2022*.md"))
    # One small commit per file (Whoosh's own writer): its MERGE_SMALL rule
    # merges the small segments after the fifth.
    for path in files:
        shutil.copy(path, tmp_path / "small" / path.name)
        store.sync()
    assert len(_segments(store)) < len(files)
    plain = Store(tmp_path / "small", tmp_path / "plain-index")
    monkeypatch.undo()
    plain.sync()
    assert _indexed(store) == _indexed(plain)
    # Whoosh counts a deleted passage's length until its segment is merged
    # (each commit deletes the last meta record): scores differ a little.
    assert _same_hits(_answers(store), _answers(plain))
    assert integrity.check(store, deep=True) == []


def _same_hits(got: dict, expected: dict) -> bool:
    for query, answer in expected.items():
        hits, found = answer.pop("hits"), got[query].pop("hits")
        assert got[query] == answer, query
        assert {h["id"]: h["score"] for h in found} == pytest.approx(
            {h["id"]: h["score"] for h in hits}, rel=0.05), query
    return True


_KILLED_MID_MERGE = """
import os, signal, sys
from indexer import bulkmerge, bulkwriter, store as store_module
from indexer.store import Store

store_module.PARALLEL_BYTES = 0
bulkwriter.FLUSH_BYTES = 60_000
bulkmerge.SEGMENTS_PER_TIER = 1  # the parts merged
real = bulkmerge.write_terms
calls = [0]

def write_terms(*args, **kwargs):
    calls[0] += 1
    if calls[0] == 2:  # a field of the merged segment written, not all
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)

bulkmerge.write_terms = write_terms
Store(sys.argv[1], sys.argv[2]).sync()
"""


@pytest.mark.slow
def test_a_merge_killed_midway_leaves_the_index_as_it_was(corpus, tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    for path in sorted(corpus.glob("2022*.md"))[6:]:
        path.rename(new / path.name)
    store = Store(corpus, tmp_path / "index")
    store.sync()
    toc = sorted(p.name for p in store.index_dir.glob("*.toc"))
    indexed, answers = _indexed(store), _answers(store)
    for path in new.iterdir():
        path.rename(corpus / path.name)
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILLED_MID_MERGE),
                            str(corpus), str(store.index_dir)],
                           cwd=Path(__file__).resolve().parent.parent, timeout=300,
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr
    # Parts and a partial merged segment were written, none committed.
    assert len(list(store.index_dir.glob("MAIN_*.pst"))) > len(_segments(store))
    assert sorted(p.name for p in store.index_dir.glob("*.toc")) == toc
    assert _indexed(store) == indexed
    assert _answers(store) == answers
    assert store.is_stale()
    # The next sync writes the new files and leaves no file of the dead one.
    store.sync()
    assert not store.is_stale()
    assert integrity.check(store, deep=True) == []
    segments = _segments(store)
    assert {p.name.split(".")[0] for p in store.index_dir.glob("MAIN_*.*")
            if p.suffix != ".toc"} == set(segments)
    assert os.path.exists(store.index_dir / arrays_format.file_name(segments[-1]))
