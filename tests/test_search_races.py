"""Reads of the index that race another process's commit: every read the web
and the command line make answers from the newest commit, once retried in
one place (SearchService.reading); the arrays cache keeps the newest arrays;
no request waits on another's merge of the arrays.

The races are real: another process commits a merge that deletes the
segment files the reader has not opened yet, at a point a hook chooses.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_snapshot import two_segments  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent


def _merge_in_another_process(index_dir: Path) -> None:
    """Another worker's commit that merges every segment and deletes their
    files (optimize rewrites even a single segment)."""
    code = ("import sys; from whoosh import index; from indexer.codec import ZhCodec; "
            "index.open_dir(sys.argv[1]).writer(codec=ZhCodec(), compound=False)"
            ".commit(optimize=True)")
    subprocess.run([sys.executable, "-c", code, str(index_dir)], check=True, cwd=ROOT,
                   timeout=300)


@pytest.fixture
def racing(store, monkeypatch):
    """``racing(times)``: from now on, the first ``times`` stored-field reads
    each find their segment merged away by another process's commit just
    before: the columns are not opened with the searcher (as a searcher
    opened between a commit's listing and its clean-up has them), so Whoosh
    meets a deleted file, as it did before issue 19's pinning."""
    import indexer.search
    from whoosh.reading import SegmentReader

    real = SegmentReader.stored_fields
    merges: list[int] = []
    budget = [0]

    def stored_fields(self, docnum):
        if budget[0] > 0:
            budget[0] -= 1
            merges.append(1)
            _merge_in_another_process(store.index_dir)
        return real(self, docnum)

    monkeypatch.setattr(indexer.search, "_pin_columns", lambda searcher: searcher)
    monkeypatch.setattr(SegmentReader, "stored_fields", stored_fields)

    def arm(times: int = 1) -> list[int]:
        budget[0] = times
        return merges
    return arm


def _client(store):
    from web import create_app

    return create_app({"TESTING": False, "SECRET_KEY": "t"}, store=store).test_client()


@pytest.mark.slow
@pytest.mark.parametrize("page", ["article", "explain", "reports", "report", "summary"])
def test_a_page_whose_reader_raced_a_merge_answers_from_the_newest_commit(
        store, racing, page):
    """Before, only ``search`` retried: the article, explain, report list,
    report and summary pages answered 503 "try again" (web/errors.py caught
    Whoosh's TypeError) though the newest commit answers them."""
    from indexer.search import SearchService

    hit = SearchService(store).search("劳模", limit=1).hits[0]
    article = hit.id.rsplit("-", 1)[0]
    url, expected = {
        "article": (f"/doc/{article}", hit.title),
        "explain": (f"/why/{hit.id}?q=劳模", "劳模"),
        "reports": ("/reports", hit.source),
        "report": (f"/reports/{hit.source}", hit.title),
        "summary": ("/", "2"),
    }[page]
    client = _client(store)
    merges = racing(1)
    response = client.get(url)
    text = response.get_data(as_text=True)
    assert merges, "the read raced no merge"
    assert response.status_code == 200, text[:2000]
    assert expected in text


@pytest.mark.slow
def test_a_read_that_races_twice_is_try_again_not_a_damaged_index(store, racing):
    """The retry raced a second merge: the index opens, so the answer is a
    503 to try again, named by the library (index_changed), never "rebuild"."""
    from indexer.errors import IndexChanged
    from indexer.search import SearchService

    article = SearchService(store).search("劳模", limit=1).hits[0].id.rsplit("-", 1)[0]
    service = SearchService(store)  # its searcher has read no stored field yet
    merges = racing(2)
    with pytest.raises(IndexChanged):
        service.article(article)
    assert len(merges) == 2, "read twice, no more"
    assert service.article(article).passages  # the next read answers

    client = _client(store)
    racing(2)
    page = client.get(f"/doc/{article}")
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert "zhsearch index --rebuild" not in page.get_data(as_text=True)


# -- the arrays cache: two threads that miss at once ---------------------------------


def test_two_threads_that_miss_the_arrays_at_once_share_one_entry_and_one_merge(
        two_segments, monkeypatch):
    """Thread A and thread B both miss the cache for the same segments; A
    inserts its arrays and merges them; only then does B insert. Before, B's
    insert replaced A's merged arrays with its per-segment ones and B merged
    again: searches went back to walking every segment until that second
    merge ended (in a server, in a background thread)."""
    import threading

    from indexer import evaluate, snapshot
    from indexer.search import SearchService

    store = two_segments
    a_searcher = SearchService(store).searcher()
    b_searcher = SearchService(store).searcher()
    both_missed = threading.Barrier(2, timeout=60)
    a_done = threading.Event()
    real_mapped, real_merged = snapshot.mapped, evaluate.IndexArrays.merged
    merges: list[str] = []

    def mapped(folder, leaves):
        both_missed.wait()  # each has looked in the cache and found nothing
        if threading.current_thread().name == "B":
            assert a_done.wait(60), "A never finished"
        return real_mapped(folder, leaves)

    def merged(self):
        merges.append(threading.current_thread().name)
        return real_merged(self)

    monkeypatch.setattr(snapshot, "mapped", mapped)
    monkeypatch.setattr(evaluate.IndexArrays, "merged", merged)
    got: dict[str, object] = {}

    def run(name, searcher):
        got[name] = evaluate.index_arrays(searcher, store.index_dir, merge=True)
        if name == "A":
            a_done.set()

    threads = [threading.Thread(target=run, args=(n, s), name=n)
               for n, s in (("A", a_searcher), ("B", b_searcher))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert set(got) == {"A", "B"}
    assert len(got["A"].leaves) == 1, "A merged the segments before answering"
    key = (str(store.index_dir), evaluate.segments_of(a_searcher.reader()))
    assert evaluate._INDEXES[key] is got["A"], "B's later insert replaced A's merged arrays"
    assert got["B"] is got["A"]
    assert merges == ["A"]


# -- no request waits for the merge of the arrays ------------------------------------

_HOLD_LOCK = """
import fcntl, sys
lock = open(sys.argv[1], "a+b")
fcntl.lockf(lock, fcntl.LOCK_EX, 1, int(sys.argv[2]))
print("held", flush=True)
sys.stdin.read()  # until the test closes it
"""


@pytest.mark.slow
def test_a_first_search_answers_while_another_process_builds_the_snapshot(
        two_segments, monkeypatch):
    """Another process holds the lock of the snapshot's build (its build under
    way). Before, a process's first search merged the arrays in the request's
    own thread, and so waited for that build, up to the lock's 600 s: it had
    not answered after 60 s. Now it answers from the segments' arrays at
    once, and the merge follows in the background once the lock is free."""
    import threading

    from indexer import evaluate, snapshot
    from indexer.search import SearchService

    store = two_segments
    expected = [(r.total, [h.id for h in r.hits]) for r in
                (SearchService(store, long_lived=False).search(q, limit=0) for q in ("劳模", "工会"))]
    # A process that starts now: nothing mapped, its first generation.
    evaluate._INDEXES.clear()
    monkeypatch.setattr(evaluate, "MERGE_IN_BACKGROUND", True)
    monkeypatch.setattr(evaluate, "_merged_before", False, raising=False)
    with store.open_index(create=False).reader() as reader:
        ids = [leaf.segment().segment_id() for leaf, _ in evaluate.leaves(reader)]
    assert len(ids) > 1
    name = snapshot.file_name(ids)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(store.index_dir / snapshot.LOCK_NAME),
         str(snapshot._lock_byte(name))], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        answered: list = []
        service = SearchService(store)
        search = threading.Thread(target=lambda: answered.extend(
            (r.total, [h.id for h in r.hits])
            for r in (service.search(q, limit=0) for q in ("劳模", "工会"))), daemon=True)
        search.start()
        search.join(60)  # a guard against a hang only: it answers in well under a second
        assert not search.is_alive(), "the search waited for another process's build"
        assert answered == expected
        assert not (store.index_dir / name).exists(), "the lock was held: nothing built yet"
    finally:
        holder.communicate(b"", timeout=60)  # the lock goes with the process
    merging = [t for t in threading.enumerate() if t.name == "zhsearch-merge-arrays"]
    for thread in merging:
        thread.join(300)
    assert (store.index_dir / name).exists(), "the merge followed once the lock was free"
    index = evaluate.index_arrays(service.searcher(), store.index_dir, merge=True)
    assert len(index.leaves) == 1


@pytest.mark.slow
def test_a_search_does_not_wait_for_ever_on_another_process_building_a_segments_arrays(
        two_segments, monkeypatch):
    """A segment's arrays file is missing and another process holds the lock
    of its build (a stopped process holds it for ever). Before, a search
    waited on that lock without bound (it had not answered after 60 s); now
    it waits ``postings.WAIT_SECONDS`` at most, then reads the segment into
    memory itself and answers, and leaves the file to the other build."""
    import threading
    import zlib

    from indexer import arrays_format, evaluate, postings
    from indexer.search import SearchService

    store = two_segments
    expected = [h.id for h in SearchService(store, long_lived=False).search("劳模", limit=0).hits]
    with store.open_index(create=False).reader() as reader:
        segment = evaluate.leaves(reader)[-1][0].segment().segment_id()
    (store.index_dir / arrays_format.file_name(segment)).unlink()
    evaluate._INDEXES.clear()  # a process that starts now
    postings._CACHE.clear()
    monkeypatch.setattr(postings, "WAIT_SECONDS", 0.2, raising=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(store.index_dir / ".zharrays.lock"),
         str(zlib.crc32(segment.encode()) % (1 << 30))], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        answered: list = []
        search = threading.Thread(target=lambda: answered.extend(
            h.id for h in SearchService(store, long_lived=False).search("劳模", limit=0).hits),
            daemon=True)
        search.start()
        search.join(60)  # a guard against a hang only
        assert not search.is_alive(), "the search waited for another process's build"
        assert answered == expected
        assert not (store.index_dir / arrays_format.file_name(segment)).exists()
    finally:
        holder.communicate(b"", timeout=60)


def test_arrays_a_one_shot_read_made_are_merged_for_a_long_lived_service(two_segments):
    """The cache is shared by the services of a process, and keyed by the
    segments only: arrays made first by a one-shot read (``check``'s stats,
    a script) were found by the long-lived service, which then never merged
    them; it walked every segment for the life of the process."""
    from indexer import evaluate
    from indexer.search import SearchService

    store = two_segments  # merges before answering: MERGE_IN_BACKGROUND off
    one_shot = SearchService(store, long_lived=False)
    one_shot.search("劳模")
    assert len(evaluate.index_arrays(one_shot.searcher(), store.index_dir).leaves) > 1
    server = SearchService(store)
    server.search("劳模")
    assert len(evaluate.index_arrays(server.searcher(), store.index_dir, merge=True).leaves) == 1
