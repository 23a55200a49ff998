"""The bulk segment writer (indexer.bulkwriter) against Whoosh's own writer.

On the same passages, the segment :func:`write_segment` makes and the one
Whoosh's ``SegmentWriter`` makes hold the same terms, postings (documents,
frequencies, positions), stored fields and lengths, answer stock
``QueryParser`` queries alike, and give the same arrays; the arrays derived
without reading the segment back are those too.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.index import TOC
from whoosh.qparser import QueryParser

from indexer import arrays_build, arrays_format, blocks, bulkmerge, bulkwriter, integrity
from indexer import store as store_module
from indexer.bulkwriter import BulkWriteError, write_segment
from indexer.codec import ZhCodec
from indexer.errors import IndexUnwritable
from indexer.records import build_schema
from indexer.search import SearchService
from indexer.store import Store, _write_file

BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# Words for a generated news corpus: enough of them that terms span several
# blocks of 128 postings, and some passages long enough for position gaps
# of 256 and more (which Whoosh pickles another way).
_WORDS = ("劳模 工会 职工 代表大会 习近平 新时代 中国特色 社会主义 思想 指导 改革 产业工人 队伍 建设 "
          "服务 大局 团结 动员 冬奥会 北京 疫情 防控 经济 发展 乡村振兴 科技 创新 人民 群众 "
          "生活 就业 教育 医疗 文化 生态 环境 保护 国家 卫生 健康 委员会 通报 最新 数据").split()
_MARKS = ("，", "。", "、", "；", "：", "“", "”")
_LATIN = ("IBM", "GDP", "5G", "25.6", "2022", "COVID-19", "ＡＢＣ", "勞模")


def _sentence(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        out.append(rng.choice(_WORDS) if rng.random() > 0.08 else rng.choice(_LATIN))
        if rng.random() < 0.15:
            out.append(rng.choice(_MARKS))
    return "".join(out) + "。"


def generated_news(folder: Path, files: int = 12, seed: int = 20) -> None:
    """A small news corpus shaped like the daily ``.md`` files of news."""
    rng = random.Random(seed)
    for day in range(files):
        lines = [f"# 《新闻联播》（202201{day + 1:02d}）", ""]
        for story in range(rng.randint(4, 9)):
            lines += [f"## {_sentence(rng, 4)[:-1]}", ""]
            for _ in range(rng.randint(1, 5)):
                lines += [_sentence(rng, rng.randint(1, 60)), ""]
        if day == 0:
            # One word more than 1,000 times, and gaps past 255 positions.
            lines += ["## 长段落", "", "劳模" * 1100 + "。", "",
                      "工会" + "，".join(["职工"] * 300) + "工会。", ""]
        (folder / f"202201{day + 1:02d}.md").write_text("\n".join(lines), encoding="utf-8")


class _Recorder:
    """Stands for a writer: keeps the documents the store would add."""

    def __init__(self) -> None:
        self.docs: list[dict] = []

    def add_document(self, **fields) -> None:
        self.docs.append(fields)

    def delete_by_term(self, *args) -> None:
        pass


def corpus_documents(folder: Path) -> list[dict]:
    """The documents ``zhsearch index`` adds for the files of ``folder``."""
    recorder = _Recorder()
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        _write_file(recorder, path.name, data, len(data), 0.0, "added", keep_unchanged=False)
    return recorder.docs


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("news")
    for path in BUNDLED_CORPUS.iterdir():
        shutil.copy(path, folder / path.name)
    generated_news(folder)
    docs = corpus_documents(folder)
    assert len(docs) > 250
    return docs


def whoosh_index_of(folder: Path, docs: list[dict]) -> whoosh_index.Index:
    ix = whoosh_index.create_in(str(folder), build_schema())
    with ix.writer(codec=ZhCodec(), compound=False) as writer:
        for doc in docs:
            writer.add_document(**doc)
    return ix


def bulk_index_of(folder: Path, docs: list[dict]) -> tuple[whoosh_index.Index, tuple]:
    ix = whoosh_index.create_in(str(folder), build_schema())
    segment, derived = write_segment(ix.storage, ix.indexname, ix.schema, ZhCodec(), docs,
                                     arrays=True)
    TOC(ix.schema, [segment], 1).write(ix.storage, ix.indexname)
    return whoosh_index.open_dir(str(folder)), derived


def postings_of(reader) -> dict:
    """Every term's postings: (document, weight, raw value) per posting."""
    found = {}
    for fieldname, btext in reader.all_terms():
        m = reader.postings(fieldname, btext)
        items = []
        while m.is_active():
            items.append((m.id(), m.weight(), m.value()))
            m.next()
        found[(fieldname, btext)] = items
    return found


def lengths_of(reader) -> dict:
    names = reader.schema.names()
    return {"each": [[reader.doc_field_length(n, f) for f in names]
                     for n in range(reader.doc_count_all())],
            "total": [reader.field_length(f) for f in names],
            # Whoosh has these for the fields that have lengths only.
            "min": reader.min_field_length("content"), "max": reader.max_field_length("content")}


QUERIES = ["劳模", "工会 职工", '"劳模 工会"', "职工 OR 冬奥会", "ibm", "25.6", "社会主义 NOT 疫情",
           "广宁县", '"代表大会"', "新时代 中国特色 社会主义"]


def results_of(ix, queries=QUERIES) -> dict:
    with ix.searcher() as searcher:
        parser = QueryParser("content", ix.schema)
        return {q: [(hit["id"], round(hit.score, 9)) for hit in searcher.search(parser.parse(q), limit=None)]
                for q in queries}


def assert_arrays_equal(a: tuple, b: tuple) -> None:
    (head_a, arr_a), (head_b, arr_b) = a, b
    head_a, head_b = dict(head_a), dict(head_b)
    head_a.pop("segment"), head_b.pop("segment")
    assert head_a == head_b
    assert list(arr_a) == list(arr_b)
    for name in arr_a:
        assert arr_a[name].dtype == arr_b[name].dtype, name
        assert np.array_equal(arr_a[name], arr_b[name]), name


@pytest.mark.slow
def test_the_bulk_segment_holds_what_whooshs_writer_writes(documents, tmp_path):
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "bulk").mkdir()
    whoosh_ix = whoosh_index_of(tmp_path / "whoosh", documents)
    bulk_ix, derived = bulk_index_of(tmp_path / "bulk", documents)
    with whoosh_ix.reader() as expected, bulk_ix.reader() as got:
        assert got.doc_count_all() == expected.doc_count_all() == len(documents)
        assert list(got.all_terms()) == list(expected.all_terms())
        assert sum(1 for f, _ in got.all_terms() if f == "content") > 100
        expected_postings = postings_of(expected)
        assert postings_of(got) == expected_postings
        # Terms past one block of postings, and positions Whoosh pickles
        # with larger opcodes, are in the sample.
        assert max(len(p) for p in expected_postings.values()) > 128
        assert [got.stored_fields(n) for n in range(len(documents))] == \
            [expected.stored_fields(n) for n in range(len(documents))]
        assert lengths_of(got) == lengths_of(expected)
        assert_arrays_equal(arrays_build.build_arrays(got), arrays_build.build_arrays(expected))
        assert_arrays_equal(derived, arrays_build.build_arrays(expected))
    assert results_of(bulk_ix) == results_of(whoosh_ix)
    assert any(results_of(whoosh_ix).values())
    # Whoosh's codec wrote both, from the same blocks: the files are the same bytes.
    assert segment_files(tmp_path / "bulk") == segment_files(tmp_path / "whoosh")


def segment_files(folder: Path) -> dict[str, bytes]:
    """A segment's files by extension (the segment id left out)."""
    return {path.name.split(".", 1)[1]: path.read_bytes() for path in folder.iterdir()
            if path.is_file() and path.name.startswith("MAIN_") and "." in path.name
            and path.suffix != ".toc"}


def test_positions_are_encoded_as_whooshs_positions_format_encodes_them():
    from whoosh.formats import Positions

    from indexer.blocks import encode_positions

    rng = np.random.default_rng(7)
    # One position, a few, gaps of 256 and more (other pickle opcodes), and
    # more than 1,000 positions (pickle batches a list by 1,000 items).
    counts = np.array([1, 3, 2, 1, 1001, 5, 1, 2000], dtype=np.int64)
    gaps = [rng.integers(0, 255, size=c) for c in counts]
    gaps[2][1], gaps[3][0], gaps[5][4] = 256, 70_000, 300
    poslists = [np.cumsum(g).tolist() for g in gaps]
    encoded = encode_positions(counts, np.concatenate(gaps))
    assert encoded.take(0, len(counts)) == [Positions().encode(p) for p in poslists]
    assert encoded.take(4, 6) == [Positions().encode(p) for p in poslists[4:6]]


# -- the bulk writer as the store's writer of a large commit ----------------------------


def _indexed(store: Store) -> list[dict]:
    """Every stored document but the times (of the meta record, of the
    files: the two corpora are two copies), in index order."""
    ix = store.open_index(create=False)
    with ix.searcher() as searcher:
        docs = [dict(doc) for doc in searcher.all_stored_fields()]
    for doc in docs:
        doc.pop("mtime", None)
        if doc.get("kind") == "meta":
            doc["info"] = json.loads(doc["info"])
            doc["info"].pop("updated")
    return docs


def _answers(store: Store) -> dict:
    service = SearchService(store)
    answers = {q: service.search(q, limit=0).to_json() for q in QUERIES}
    for answer in answers.values():
        answer.pop("took_ms")
    return answers


def _segments(store: Store) -> list[str]:
    with store.open_index(create=False).reader() as reader:
        return [leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()] \
            if not reader.is_atomic() else [reader.segment().segment_id()]


@pytest.fixture
def two_corpora(tmp_path) -> tuple[Path, Path]:
    for name in ("bulk", "plain"):
        (tmp_path / name).mkdir()
        for path in BUNDLED_CORPUS.iterdir():
            shutil.copy(path, tmp_path / name / path.name)
        generated_news(tmp_path / name)
    return tmp_path / "bulk", tmp_path / "plain"


def _sync_both(bulk: Store, plain: Store, monkeypatch, rebuild: bool = False) -> None:
    # Every commit of `bulk` takes the bulk writer, with a worker every few
    # files; every commit of `plain` takes Whoosh's SegmentWriter.
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(bulkwriter, "FLUSH_BYTES", 60_000)
    bulk.rebuild() if rebuild else bulk.sync()
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 10**12)
    plain.rebuild() if rebuild else plain.sync()


@pytest.mark.slow
def test_an_index_written_by_bulk_workers_answers_as_whooshs_writer_does(two_corpora, tmp_path,
                                                                          monkeypatch):
    bulk = Store(two_corpora[0], tmp_path / "bulk-index")
    plain = Store(two_corpora[1], tmp_path / "plain-index")
    monkeypatch.setattr(bulkmerge, "SEGMENTS_PER_TIER", 1)  # every commit's parts merged
    _sync_both(bulk, plain, monkeypatch)
    # The workers' parts merged into one segment (indexer.bulkmerge).
    assert len(_segments(bulk)) == 1 and len(_segments(plain)) == 1
    # The merge wrote the merged segment's arrays itself.
    assert {p.name for p in bulk.index_dir.glob("*.zharrays")} == \
        {arrays_format.file_name(s) for s in _segments(bulk)}
    assert _indexed(bulk) == _indexed(plain)
    assert _answers(bulk) == _answers(plain)
    assert integrity.check(bulk, deep=True) == []
    # An update: a file changed, one deleted, one new; then a rebuild.
    for corpus in two_corpora:
        (corpus / "20220102.md").unlink()
        (corpus / "20220103.md").write_text("# 新闻\n\n劳模工会冬奥会。\n", encoding="utf-8")
        (corpus / "new.txt").write_text("工会职工代表大会。\n\n新时代劳模。\n", encoding="utf-8")
    _sync_both(bulk, plain, monkeypatch)
    assert _indexed(bulk) == _indexed(plain)
    assert _answers(bulk) == _answers(plain)
    assert integrity.check(bulk, deep=True) == [] and not bulk.is_stale()
    _sync_both(bulk, plain, monkeypatch, rebuild=True)
    assert _indexed(bulk) == _indexed(plain)
    assert _answers(bulk) == _answers(plain)
    assert integrity.check(bulk, deep=True) == []


def _failing_workers(monkeypatch, fail, flush_bytes: int) -> None:
    """Make every worker process (not this one) fail as ``fail()`` does."""
    parent = os.getpid()
    real = bulkwriter.write_segment

    def write_segment(*args, **kwargs):
        if os.getpid() != parent:
            fail()
        return real(*args, **kwargs)

    monkeypatch.setattr(bulkwriter, "write_segment", write_segment)
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(bulkwriter, "FLUSH_BYTES", flush_bytes)


def _kill_self() -> None:
    os._exit(9)  # as the kernel's OOM killer would leave it: no result sent


def _disk_full() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.slow
@pytest.mark.parametrize("fail, error, code", [(_kill_self, BulkWriteError, None),
                                                (_disk_full, IndexUnwritable, "disk_full")])
# Workers started while files are read (and waited for when both cores are
# busy), or only at the commit, beside the part this process writes.
@pytest.mark.parametrize("flush_bytes", [60_000, 10**9])
def test_a_failed_worker_fails_the_commit_and_leaves_the_index_as_it_was(
        tmp_path, monkeypatch, fail, error, code, flush_bytes):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in BUNDLED_CORPUS.iterdir():
        shutil.copy(path, corpus / path.name)
    store = Store(corpus, tmp_path / "index")
    store.sync()  # small: Whoosh's own writer
    before = sorted(p.name for p in store.index_dir.iterdir())
    indexed = _indexed(store)
    generated_news(corpus)
    _failing_workers(monkeypatch, fail, flush_bytes)
    with pytest.raises(error) as raised:
        store.sync()
    assert code is None or raised.value.code == code
    # Nothing of the failed commit is left, the lock is free, the index answers as before.
    assert sorted(p.name for p in store.index_dir.iterdir()) == before
    assert _indexed(store) == indexed
    assert {p.description for p in integrity.check(store)} == {"in the corpus but not indexed"}
    assert store.is_stale()
    monkeypatch.undo()
    store.sync()
    assert not store.is_stale() and len(_indexed(store)) > len(indexed)


def _many_passages(count: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": f"p{i}", "content": _sentence(rng, rng.randint(20, 80))} for i in range(count)]


def test_arrays_built_in_small_chunks_are_the_arrays_of_the_segment(documents, tmp_path,
                                                                    monkeypatch):
    # Chunks of 100 postings end in the middle of terms and of blocks.
    monkeypatch.setattr(arrays_build, "BUILD_CHUNK", 100)
    ix, derived = bulk_index_of(tmp_path, documents)
    with ix.reader() as reader:
        assert len(derived[1]["docs"]) > 20 * 100
        assert_arrays_equal(arrays_build.build_arrays(reader), derived)


def test_positions_encoded_and_terms_written_in_small_chunks_make_the_same_segment(documents, tmp_path,
                                                                monkeypatch):
    (tmp_path / "whole").mkdir()
    (tmp_path / "chunks").mkdir()
    _, whole = bulk_index_of(tmp_path / "whole", documents)
    assert len(whole[1]["docs"]) > 20 * 100
    monkeypatch.setattr(blocks, "ENCODE_CHUNK", 100)
    # Terms written in runs of about 100 postings and terms: runs end
    # before, after and at a term of several blocks.
    monkeypatch.setattr(blocks, "WRITE_RUN", 100)
    _, chunks = bulk_index_of(tmp_path / "chunks", documents)
    assert segment_files(tmp_path / "chunks") == segment_files(tmp_path / "whole")
    assert_arrays_equal(chunks, whole)


def test_building_arrays_holds_no_python_object_per_posting(tmp_path, monkeypatch):
    # A posting held as a Python bytes and int costs ~300 bytes, 22x the
    # arrays of the 2022 news; decoded in chunks into arrays sized from the
    # segment's statistics, the build needs the output and one chunk.
    ix, derived = bulk_index_of(tmp_path, _many_passages(3000))
    out = sum(a.nbytes for a in derived[1].values())
    assert len(derived[1]["docs"]) > 80_000
    monkeypatch.setattr(arrays_build, "BUILD_CHUNK", 1000)
    with ix.reader() as reader:
        tracemalloc.start()
        try:
            built = arrays_build.build_arrays(reader)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert_arrays_equal(built, derived)
    assert peak < 3 * out, (peak, out)


def test_a_worker_takes_every_few_thousand_short_passages_not_only_every_few_mb(tmp_path,
                                                                                monkeypatch):
    # 16 MB of one-word paragraphs are 5 million passages (~2 KB each in a
    # worker): a segment is bounded by its passages too, not only its text.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rng = random.Random(5)
    for day in range(1, 4):
        paragraphs = [_sentence(rng, 1) for _ in range(150)]
        (corpus / f"2022010{day}.md").write_text("# 短讯\n\n" + "\n\n".join(paragraphs) + "\n",
                                                 encoding="utf-8")
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(bulkwriter, "FLUSH_PASSAGES", 100)
    monkeypatch.setattr(bulkmerge, "MERGE_WORDS", 0)  # every part kept: counted below
    bulk = Store(corpus, tmp_path / "bulk-index")
    bulk.sync()
    # 450 passages and 3 file records: 4 workers of 100, the rest in 2 parts.
    assert len(_segments(bulk)) == 6
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 10**12)
    plain = Store(corpus, tmp_path / "plain-index")
    plain.sync()
    assert _indexed(bulk) == _indexed(plain)
    assert _answers(bulk) == _answers(plain)
