"""The snapshot of a generation's arrays, one file shared by every server process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from indexer import arrays_format, evaluate, integrity, postings, snapshot
from indexer.search import SearchService
from indexer.store import Store
from indexer.vocabulary import TermsVocabulary

from .conftest import NEWS_MD, SEED
from .reference import WhooshService
from .test_evaluate import _no_merge

QUERIES = ["劳模", "工会", "代表大会", "托管", '"劳模精神"', "劳模 -表彰", "职工 OR 工匠"]


def _fresh() -> None:
    """Forget what this process mapped: as a process that starts now."""
    evaluate._INDEXES.clear()
    postings._CACHE.clear()


@pytest.fixture
def two_segments(tmp_path, monkeypatch):
    """A store whose index has several segments and a deletion."""
    _no_merge(monkeypatch)
    monkeypatch.setattr(evaluate, "MERGE_IN_BACKGROUND", False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    store = Store(corpus, tmp_path / "index")
    store.sync()
    (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
    (corpus / "20230516.md").write_text("# 劳模表彰\n\n劳模精神代代传，工会职工和工匠齐参与。",
                                        encoding="utf-8")
    store.sync()
    (corpus / "20230516.md").unlink()
    store.sync()
    _fresh()
    yield store
    _fresh()


def _answers(service: SearchService) -> list[tuple[int, list[str], list]]:
    return [(r.total, [h.id for h in r.hits], [h.score for h in r.hits])
            for r in (service.search(q, limit=0) for q in QUERIES)]


def _reference(store: Store) -> list[tuple[int, list[str], list]]:
    return _answers(WhooshService(store))


def _snapshots(store: Store) -> list[Path]:
    return sorted(store.index_dir.glob("snapshot_*.zhsnap"))


def test_a_server_writes_one_snapshot_and_answers_from_it(two_segments):
    store = two_segments
    with store.open_index(create=False).searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) > 1
    service = SearchService(store)
    assert _answers(service) == _reference(store)
    [path] = _snapshots(store)
    index = evaluate.index_arrays(service.searcher(), store.index_dir, merge=True)
    assert [leaf.arrays.path for leaf in index.leaves] == [path]
    # The vocabulary is the snapshot's table, not a copy of its words.
    assert isinstance(service.vocabulary(service.searcher()), TermsVocabulary)
    # A process that starts later maps it, and builds nothing.
    _fresh()
    built = snapshot.builds
    assert _answers(SearchService(store)) == _reference(store)
    assert snapshot.builds == built
    assert not integrity.check(store)


def test_a_damaged_snapshot_is_never_read(two_segments):
    store = two_segments
    SearchService(store).search("劳模")
    [path] = _snapshots(store)
    good = arrays_format.load_file(path)
    # One byte of the postings changed: read, it would move a hit.
    docs_at = path.stat().st_size - arrays_format._FOOTER.size - good.header["body_size"] \
        + good.header["arrays"]["docs"][1]
    del good
    data = bytearray(path.read_bytes())
    data[docs_at] ^= 0x01
    path.write_bytes(bytes(data))
    _fresh()
    [problem] = integrity.check(store)
    assert problem.source == path.name and "damaged: checksum mismatch" in problem.description
    built = snapshot.builds
    assert _answers(SearchService(store)) == _reference(store)
    assert snapshot.builds == built + 1  # rebuilt, not read
    assert arrays_format.load_file(path).header["snapshot"]
    assert not integrity.check(store)


def test_check_repair_rebuilds_a_damaged_snapshot_and_removes_a_stale_one(two_segments):
    store = two_segments
    SearchService(store).search("劳模")
    [path] = _snapshots(store)
    stale = path.with_name(snapshot.file_name(["MAIN_gone1", "MAIN_gone2"]))
    stale.write_bytes(path.read_bytes())
    path.write_bytes(path.read_bytes()[:-1])  # truncated
    _fresh()
    problems = integrity.check(store)
    assert sorted((p.source, p.description.split(":")[0]) for p in problems) == sorted(
        [(path.name, "search snapshot damaged"),
         (stale.name, "search snapshot of an older generation")])
    integrity.repair(store, problems)
    assert _snapshots(store) == [path]
    assert not integrity.check(store)
    assert _answers(SearchService(store)) == _reference(store)


def test_a_new_commit_removes_the_snapshot_of_the_old_generation(two_segments, monkeypatch):
    store = two_segments
    SearchService(store).search("劳模")
    [old] = _snapshots(store)
    (store.corpus_dir / "20230601.md").write_text("# 新闻\n\n劳模工会新闻。", encoding="utf-8")
    store.sync()  # a third segment: a new generation
    assert not old.exists()
    _fresh()
    service = SearchService(store)
    assert _answers(service) == _reference(store)
    [new] = _snapshots(store)
    assert new != old
    # Every segment merged into one (as an optimize does): no snapshot at all.
    monkeypatch.undo()  # commits merge again
    ix = store.open_index(create=False)
    ix.optimize()
    snapshot.after_commit(ix, store.index_dir)
    assert _snapshots(store) == []


def test_a_snapshot_finished_after_a_commit_of_a_new_generation_is_not_left_behind(
        two_segments, monkeypatch):
    """A build that ends after another process committed (and cleaned up)
    leaves no snapshot of the older generation for ``check`` to find."""
    store = two_segments
    with store.open_index(create=False).searcher() as searcher:
        parts = [postings.segment_arrays(leaf, store.index_dir)
                 for leaf, _ in postings.leaves(searcher.reader())]
    write_file = arrays_format.write_file

    def commit_first(path, data):
        # The commit and its clean-up run while the build is under way.
        (store.corpus_dir / "20230601.md").write_text("# 新闻\n\n劳模工会新闻。", encoding="utf-8")
        store.sync()
        return write_file(path, data)

    monkeypatch.setattr(arrays_format, "write_file", commit_first)
    built = snapshot.obtain(store.index_dir, parts, in_child=False)
    assert built is not None and built.doc_count == sum(p.doc_count for p in parts)
    monkeypatch.setattr(arrays_format, "write_file", write_file)
    assert _snapshots(store) == []
    assert snapshot.check(store.open_index(create=False), store.index_dir) == []


_RACER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from indexer import evaluate, snapshot
    from indexer.search import SearchService
    from indexer.store import Store

    evaluate.MERGE_IN_BACKGROUND = False
    store = Store(sys.argv[1], sys.argv[2])
    service = SearchService(store)
    service.searcher()
    go = Path(sys.argv[3])
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    results = [(r.total, [h.id for h in r.hits], [h.score for h in r.hits])
               for r in (service.search(q, limit=0) for q in json.loads(sys.argv[4]))]
    index = evaluate.index_arrays(service.searcher(), store.index_dir, merge=True)
    print(json.dumps({"builds": snapshot.builds, "results": results,
                      "leaves": [str(leaf.arrays.path) for leaf in index.leaves]}))
""")


def test_two_processes_racing_build_one_snapshot_and_both_answer_right(two_segments, tmp_path):
    store = two_segments
    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", _RACER, str(store.corpus_dir),
                                str(store.index_dir), str(go), json.dumps(QUERIES)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONHASHSEED="0"))
              for _ in range(2)]
    time.sleep(0.5)
    go.touch()
    outputs = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        outputs.append(json.loads(out))
    [path] = _snapshots(store)
    assert sum(o["builds"] for o in outputs) == 1
    assert all(o["leaves"] == [str(path)] for o in outputs)
    reference = [[total, ids, scores] for total, ids, scores in _reference(store)]
    assert all(o["results"] == reference for o in outputs)
    assert not list(store.index_dir.glob(".snapshot_*"))  # no temporary file left


@pytest.mark.slow
def test_every_worker_of_serve_maps_the_one_snapshot(two_segments):
    """`zhsearch serve` builds the snapshot before it forks: each worker maps
    that file from its first search, none holds a merged copy of its own."""
    from web import prefork

    from .test_serve import _children, _free_port, _search

    if not prefork.available():
        pytest.skip("gunicorn runs on Unix only")
    store = two_segments
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "--corpus", str(store.corpus_dir), "--index",
         str(store.index_dir), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None
            try:
                if _search(port, "劳模")["total"]:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        [path] = _snapshots(store)
        workers = _children(proc.pid)
        deadline = time.monotonic() + 60
        while len(workers) < prefork.cores() and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(proc.pid)
        assert len(workers) == prefork.cores()

        def mapping() -> list[int]:
            return sorted(pid for pid in workers
                          if str(path) in Path(f"/proc/{pid}/maps").read_text())

        # Each worker maps it when it starts, whichever worker the requests
        # reach (16 in a row once all went to one).
        while mapping() != sorted(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mapping() == sorted(workers)
        for _ in range(8):
            assert _search(port, "工会")["total"]
        assert not list(store.index_dir.glob("*.zharrays")) or all(
            ".zharrays" not in Path(f"/proc/{pid}/maps").read_text() for pid in workers)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
