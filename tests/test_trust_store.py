"""Issue 19: a mistyped path, a racing merge, a damaged byte or a full disk
never empties, misleads or breaks the index. Real ``zhsearch`` processes
where the harm was in a fresh process (mapped arrays, a killed command)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _zhsearch(corpus: Path, index: Path, *args: str, cwd: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """``zhsearch ARGS…`` as its own process (nothing mapped or cached before)."""
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--corpus", str(corpus),
                           "--index", str(index), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT)


def _total(corpus: Path, index: Path, query: str) -> int:
    run = _zhsearch(corpus, index, "search", query, "--json", "-n", "0")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["total"]


# -- item 5: the arrays file is checksummed whole -------------------------------------


def _damage_header(path: Path, damage: str) -> None:
    """Change the JSON header of an arrays file as one changed byte would,
    keeping its length (the header is padded with spaces)."""
    from indexer import arrays_format

    data = bytearray(path.read_bytes())
    _, _, head_len = arrays_format._PREFIX.unpack_from(data, 0)
    start = arrays_format._PREFIX.size
    text = bytes(data[start:start + head_len])
    header = json.loads(text)
    if damage == "arrays key renamed":
        new = text.replace(b'"arrays"', b'"arrayz"')
    else:
        name = damage.split()[0]
        header["arrays"][name][1] += 4
        new = json.dumps(header, sort_keys=True).encode().ljust(head_len, b" ")
    assert len(new) == head_len and new != text
    data[start:start + head_len] = new
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["docs offset +4", "lengths offset +4", "arrays key renamed"])
def test_a_changed_byte_in_the_arrays_header_is_found_never_read(corpus_dir, index_dir, damage):
    """Before: the body-only CRC let a header change through: 4 hits for 3
    with exit 0 and `check` OK, or KeyError 'arrays' in every command,
    ``index --rebuild`` included."""
    assert _zhsearch(corpus_dir, index_dir, "index").returncode == 0
    (arrays,) = index_dir.glob("*.zharrays")
    _damage_header(arrays, damage)
    check = _zhsearch(corpus_dir, index_dir, "check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout == f"{arrays.name}: search arrays damaged: checksum mismatch\n"
    rebuilt = _zhsearch(corpus_dir, index_dir, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _zhsearch(corpus_dir, index_dir, "check").returncode == 0
    before = json.loads(_zhsearch(corpus_dir, index_dir, "search", "劳模", "工会", "--json",
                                  "-n", "0").stdout)
    # Damaged again: a search rebuilds the file and answers exactly as before.
    for arrays in index_dir.glob("*.zharrays"):  # a rebuild may keep an emptied segment
        _damage_header(arrays, damage)
    after = json.loads(_zhsearch(corpus_dir, index_dir, "search", "劳模", "工会", "--json",
                                 "-n", "0").stdout)
    assert [(h["id"], h["score"]) for h in after["hits"]] == \
        [(h["id"], h["score"]) for h in before["hits"]]
    assert _zhsearch(corpus_dir, index_dir, "check").returncode == 0


@pytest.mark.slow
def test_a_first_index_killed_before_its_commit_leaves_check_and_stats_working(
        corpus_dir, index_dir):
    """Before: ``AttributeError: 'NoneType' object has no attribute
    'segment_id'`` from `check` and `stats` over the empty table of contents
    that a first `index` writes before its first commit.

    The kill is made deterministic with the writer lock: this test holds it,
    so the first `index` creates the index and then waits for the lock,
    saying so, and is killed there."""
    from whoosh.filedb.filestore import FileStorage

    index_dir.mkdir()
    lock = FileStorage(str(index_dir)).lock("MAIN_WRITELOCK")
    assert lock.acquire()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--corpus", str(corpus_dir),
                                 "--index", str(index_dir), "index"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()  # bounded: the process waits at most 60 s, then exits
            assert "Waiting for another zhsearch process" in line, line
            assert sorted(p.name for p in index_dir.glob("_MAIN_*.toc")) == ["_MAIN_0.toc"]
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
    finally:
        lock.release()
    for command in ("check", "stats"):
        run = _zhsearch(corpus_dir, index_dir, command)
        assert run.returncode == 1, run.stderr
        assert run.stderr == (f"Error: no index in {index_dir}. "
                              "Hint: run `zhsearch index` to build it.\n"), run.stderr
    # Running it again finishes the work.
    assert _zhsearch(corpus_dir, index_dir, "index").returncode == 0
    assert _zhsearch(corpus_dir, index_dir, "check").returncode == 0
    assert _total(corpus_dir, index_dir, "劳模") > 0


# -- item 6: a full disk while Whoosh spills its posting pool --------------------------


def _full_disk_when_the_pool_spills(monkeypatch, when: str) -> None:
    """The disk fills while Whoosh writes into ``MAIN.tmp/``: a file there is
    made, and then the disk is full. ``adding``: the first run of the posting
    pool, spilled while documents are added (the pool spills at 1 MB instead
    of 512 MB); ``committing``: a run written at commit; ``parallel``: the
    batch of documents the parent of Whoosh's MpWriter writes there for its
    worker processes (a commit of more than 2 MB)."""
    import errno

    from whoosh.filedb.filestore import FileStorage
    from whoosh.writing import SegmentWriter

    import indexer.store

    real_create, real_commit = FileStorage.create_file, SegmentWriter.commit
    state = {"committing": False, "made": 0}

    def create_file(self, name, *args, **kwargs):
        made = real_create(self, name, *args, **kwargs)
        if self.folder.endswith(".tmp"):
            state["made"] += 1
            if when != "committing" or state["committing"]:
                made.close()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return made

    def commit(self, *args, **kwargs):
        state["committing"] = True
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    monkeypatch.setattr(SegmentWriter, "commit", commit)
    monkeypatch.setattr(indexer.store, "POOL_MB", 1)
    return state


def _big_report(when: str = "adding") -> bytes:
    """220 KB of text, 2.4 MB for ``parallel`` (a commit of more than 2 MB
    uses worker processes); past 1 MB of postings in Whoosh's pool."""
    import random

    rng = random.Random(19)
    words = [chr(0x4E00 + rng.randrange(20000)) + chr(0x4E00 + rng.randrange(20000))
             for _ in range(4000)]
    paragraphs = ["".join(rng.choice(words) for _ in range(60)) + "。" for _ in range(600)]
    return "\n\n".join(paragraphs).encode("utf-8") * (11 if when == "parallel" else 1)


def _index_state(store) -> tuple[list[str], list[str]]:
    return (sorted(p.name for p in store.index_dir.iterdir()),
            sorted(p.name for p in store.corpus_dir.iterdir()))


@pytest.mark.parametrize("when", ["adding", "committing", "parallel"])
def test_a_full_disk_while_the_pool_spills_is_one_line_and_leaves_nothing(
        store, zhsearch, tmp_path, monkeypatch, when):
    """Before: `add` gave a traceback (IsADirectoryError removing MAIN.tmp),
    MAIN.tmp/ and the copied file were left behind, and the next `search`
    failed trying to index that file."""
    before, hits = _index_state(store), json.loads(zhsearch("search", "劳模", "--json").stdout)
    big = tmp_path / "满盘.txt"
    big.write_bytes(_big_report(when))
    spilled = _full_disk_when_the_pool_spills(monkeypatch, when)
    run = zhsearch("add", str(big))
    assert run.exit_code == 1, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.output.strip().splitlines()[-1] == (
        f"Error: cannot write the index in {store.index_dir}: No space left on device. "
        "Hint: free some disk space, then try again.")
    assert spilled["made"] > (when == "committing"), "the disk filled in MAIN.tmp/"
    assert _index_state(store) == before, "nothing of the failed add is left behind"
    found = zhsearch("search", "劳模", "--json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["hits"] == hits["hits"]
    assert _index_state(store) == before, "the search had nothing to index"


@pytest.mark.parametrize("when", ["adding", "committing", "parallel"])
def test_a_full_disk_while_the_pool_spills_is_a_503_page(store, client, monkeypatch, when):
    import io

    from tests.test_hostile import _csrf

    before, total = _index_state(store), client.get("/api/search?q=劳模").get_json()["total"]
    _full_disk_when_the_pool_spills(monkeypatch, when)
    response = client.post("/upload", data={"files": [(io.BytesIO(_big_report(when)), "满盘.txt")],
                                            "csrf_token": _csrf(client)},
                           content_type="multipart/form-data")
    assert response.status_code == 503
    assert "磁盘已满" in response.get_data(as_text=True)
    assert _index_state(store) == before
    assert client.get("/api/search?q=劳模").get_json()["total"] == total


# -- item 2: a mistyped or vanished corpus folder never empties the index -----------


def _sources(store) -> list[str]:
    return store.sources()


def test_a_missing_corpus_folder_is_one_line_and_leaves_the_index_alone(store, tmp_path):
    """Before: ``--corpus /no/such/dir search 劳模`` printed "No passages
    match" with exit 0 and removed every report from the index."""
    from click.testing import CliRunner

    from indexer.cli import cli

    held = _sources(store)
    files = sorted(p.name for p in store.index_dir.iterdir())
    for command in (["search", "劳模"], ["index"], ["index", "--rebuild"], ["reports"],
                    ["check"], ["add", str(store.corpus_dir / "20230515.md")], ["serve"]):
        run = CliRunner().invoke(cli, ["--corpus", str(tmp_path / "no" / "such"), "--index",
                                       str(store.index_dir), *command])
        assert run.exit_code == 2, (command, run.output)
        assert run.output == (f"Error: cannot read the corpus folder {tmp_path / 'no' / 'such'}: "
                              "no such folder. Hint: check --corpus (env ZHSEARCH_CORPUS) or "
                              "mount the folder.\n"), command
    assert _sources(store) == held and held
    assert sorted(p.name for p in store.index_dir.iterdir()) == files
    assert not (tmp_path / "no").exists()


def test_search_in_a_folder_without_a_corpus_makes_no_index(tmp_path):
    """Before: `zhsearch search 劳模` run anywhere silently created ./index."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_")}
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "search", "劳模"], cwd=elsewhere,
                         capture_output=True, text=True, timeout=300,
                         env=dict(env, PYTHONPATH=str(ROOT)))
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("Error: cannot read the corpus folder corpus: no such folder.")
    assert list(elsewhere.iterdir()) == []


def test_a_sync_that_would_remove_most_reports_is_refused_unless_allowed(store, zhsearch, tmp_path):
    """rsync's --max-delete as the model: an emptied (unmounted) corpus folder
    or one naming another folder refuses; ``--allow-removals`` confirms."""
    corpus = store.corpus_dir
    for n in range(3):
        (corpus / f"简报{n}.txt").write_text(f"第{n}期简报：劳模座谈。\n", encoding="utf-8")
    assert zhsearch("index").exit_code == 0
    held = _sources(store)
    assert len(held) == 5
    # Two of five gone: a day's work, synced.
    (corpus / "简报0.txt").unlink()
    (corpus / "简报1.txt").unlink()
    assert zhsearch("index").exit_code == 0
    assert len(_sources(store)) == 3
    # Two of the three left gone: most of them, refused, by every command that syncs.
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("简报2.txt", "20230515.md"):
        (corpus / name).rename(moved / name)
    for command in (["index"], ["index", "--rebuild"], ["search", "劳模"]):
        run = zhsearch(*command)
        assert run.exit_code == 1, (command, run.output)
        assert run.output == (
            f"Error: the corpus folder {corpus} holds 1 of the 3 indexed reports; syncing would "
            "remove 2 of them from the index. Hint: if they were deleted on purpose, run "
            "`zhsearch index --allow-removals`; otherwise check --corpus.\n"), command
    assert len(_sources(store)) == 3
    assert "--allow-removals" in zhsearch("index", "--help").output
    confirmed = zhsearch("index", "--allow-removals")
    assert confirmed.exit_code == 0, confirmed.output
    assert _sources(store) == ["000_37542822596f49c6.txt"]


@pytest.mark.readonly
def test_export_refuses_a_missing_folder(zhsearch, tmp_path):
    """Before: ``export -o /no/such/dir/x.csv`` made the folder."""
    run = zhsearch("export", "劳模", "-o", str(tmp_path / "no" / "x.csv"))
    assert run.exit_code == 2
    assert run.output == f"Error: cannot write {tmp_path / 'no' / 'x.csv'}: no folder {tmp_path / 'no'}\n"
    assert not (tmp_path / "no").exists()
    assert zhsearch("export", "劳模", "-o", str(tmp_path / "x.csv")).exit_code == 0


def test_a_server_whose_corpus_vanished_keeps_its_index(store, client, corpus_dir, tmp_path):
    """An unmounted share under a running server: an upload is refused (503)
    and does not make the folder anew (a later sync would have seen one
    report and removed every other); searches keep answering."""
    from tests.test_hostile import _post_files

    held = _sources(store)
    total = client.get("/api/search?q=劳模").get_json()["total"]
    corpus_dir.rename(tmp_path / "unmounted")
    response = _post_files(client, [("新报告：劳模。\n".encode(), "新.txt")])
    assert response.status_code == 503
    assert "语料库文件夹不存在或无法读取" in response.get_data(as_text=True)
    assert not corpus_dir.exists()
    assert client.get("/api/search?q=劳模").get_json()["total"] == total
    assert _sources(store) == held


# -- item 4: derived-data work after a durable commit never changes its outcome -------


def _merge_in_another_process(store) -> None:
    """Another worker's commit that merges every segment, this process's
    new one among them, and deletes their files (a commit's merge policy
    does so for small segments whenever their sizes call for it; optimize
    makes it certain)."""
    code = ("import sys; from whoosh import index; from indexer.codec import ZhCodec; "
            "index.open_dir(sys.argv[1]).writer(codec=ZhCodec(), compound=False)"
            ".commit(optimize=True)")
    subprocess.run([sys.executable, "-c", code, str(store.index_dir)],
                   check=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before the build reads", "while the build reads"])
def test_a_committed_upload_is_added_though_a_merge_deleted_its_segment(
        store, client, monkeypatch, when):
    """Before: build_after_commit → build_arrays → story_fingerprints →
    stored_fields raised TypeError once another process's merge had deleted
    the new segment's ``_stored.col``: the saved upload was answered 503
    "rebuild the index". The merge is another process's commit."""
    from indexer import arrays_build, integrity, postings
    from tests.test_hostile import _post_files

    merged: list[str] = []
    real_build, real_fingerprints = postings.build_arrays, arrays_build.story_fingerprints

    def merge_once(reader):
        if not merged:
            segment = reader.segment().segment_id()
            _merge_in_another_process(store)
            merged.append(segment)
            assert not list(store.index_dir.glob(f"{segment}._stored.col")), "the merge deleted it"

    def build_arrays(reader):
        if when == "before the build reads":
            merge_once(reader)
        return real_build(reader)

    def story_fingerprints(reader):
        if when == "while the build reads":
            merge_once(reader)
        return real_fingerprints(reader)

    monkeypatch.setattr(postings, "build_arrays", build_arrays)
    monkeypatch.setattr(arrays_build, "story_fingerprints", story_fingerprints)
    response = _post_files(client, [("合并中的上传：白色仙鹤。\n".encode(), "上传.txt")])
    assert merged, "the upload's arrays were built after another process's merge"
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "已添加" in response.get_data(as_text=True)
    monkeypatch.undo()
    found = client.get("/api/search?q=仙鹤&limit=0").get_json()
    assert [h["source"] for h in found["hits"]] == ["上传.txt"]
    assert integrity.check(store, deep=True) == []


@pytest.mark.slow
def test_a_reader_that_raced_a_merge_is_never_called_a_damaged_index(store, monkeypatch):
    """A searcher opened just before another process's commit merged its
    segment away (its column files deleted before they were pinned) read a
    ``None`` column: before, the search answered 503 "rebuild the index"
    and so did any other page (web/errors.py called every exception raised
    in a Whoosh frame damage). Now the search answers from the newest
    commit, and another page that fails so is a 503 "try again", since the
    index opens."""
    import indexer.search
    from web import create_app

    hits = {h.id for h in indexer.search.SearchService(store).search("劳模", limit=0).hits}
    article = next(iter(hits)).rsplit("-", 1)[0]
    real_pin = indexer.search._pin_columns
    merges: list[int] = []

    def pin_after_a_merge(searcher):
        if len(merges) < 1:
            merges.append(1)
            _merge_in_another_process(store)
        return real_pin(searcher)

    monkeypatch.setattr(indexer.search, "_pin_columns", pin_after_a_merge)
    client = create_app({"TESTING": False, "SECRET_KEY": "t"}, store=store).test_client()
    found = client.get("/api/search?q=劳模&limit=0")
    assert merges and found.status_code == 200, found.get_data(as_text=True)
    assert {h["id"] for h in found.get_json()["hits"]} == hits
    # Another page whose searcher raced a merge: not "damaged".
    merges.clear()
    indexer.search.SearchService._forget_searcher(
        client.application.extensions["zhsearch"].service)
    page = client.get(f"/doc/{article}")
    assert merges
    text = page.get_data(as_text=True)
    assert page.status_code in (200, 503), text
    assert "zhsearch index --rebuild" not in text
    if page.status_code == 503:
        assert page.headers["Retry-After"] == "1"
    assert client.get(f"/doc/{article}").status_code == 200


def test_a_whoosh_failure_on_a_healthy_index_is_try_again_not_rebuild(store, monkeypatch):
    """web/errors.py called any exception raised in a Whoosh frame a damaged
    index ("rebuild the index"); the library (SearchService.reading) now
    asks the index first, after reading once more."""
    from whoosh.searching import Searcher
    from whoosh.util.varints import read_varint

    from web import create_app

    def fails_in_whoosh(self, **kw):
        return read_varint(None)  # TypeError, raised inside Whoosh

    monkeypatch.setattr(Searcher, "document_numbers", fails_in_whoosh)
    client = create_app({"TESTING": False, "SECRET_KEY": "t"}, store=store).test_client()
    page = client.get("/doc/x-1")
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert "暂时不可用" in page.get_data(as_text=True)
    assert "zhsearch index --rebuild" not in page.get_data(as_text=True)
    for toc in store.index_dir.glob("_MAIN_*.toc"):
        toc.unlink()
    page = client.get("/doc/x-1")
    assert page.status_code == 503 and "zhsearch index --rebuild" in page.get_data(as_text=True)


@pytest.mark.slow
def test_arrays_built_for_a_segment_merged_away_meanwhile_leave_no_orphan(store, monkeypatch):
    """A search that builds a segment's arrays while another process's merge
    removes the segment wrote its .zharrays after Whoosh's clean-up: an
    orphan that `check` then reported (found after a soak run)."""
    from indexer import integrity, postings
    from indexer.arrays_format import file_name

    (store.corpus_dir / "第二段.txt").write_text("第二个段落的报告：青色麒麟。\n", encoding="utf-8")
    store.sync()  # a second segment
    ix = store.open_index(create=False)
    real_build = postings.build_arrays
    merged: list[str] = []

    def build_then_merge(reader):
        built = real_build(reader)  # the segment's files read, then merged away
        if not merged:
            merged.append(reader.segment().segment_id())
            _merge_in_another_process(store)
            # What the merging writer does after its commit, in its own
            # process: the new segment's arrays, and the removal of those
            # of segments gone (before this build writes its file).
            code = ("import sys; from whoosh import index; from indexer import postings; "
                    "postings.build_missing(index.open_dir(sys.argv[1]), sys.argv[1])")
            subprocess.run([sys.executable, "-c", code, str(store.index_dir)],
                           check=True, cwd=ROOT, timeout=300)
        return built

    with ix.reader() as reader:
        leaf = next(leaf for leaf, _ in postings.leaves(reader))
        postings.forget([leaf.segment().segment_id()], store.index_dir)
        (store.index_dir / file_name(leaf.segment().segment_id())).unlink()
        monkeypatch.setattr(postings, "build_arrays", build_then_merge)
        arrays = postings.segment_arrays(leaf, store.index_dir)
        assert merged and arrays.doc_count == leaf.doc_count_all()  # it still answered
    assert not (store.index_dir / file_name(merged[0])).exists()
    monkeypatch.undo()
    assert [p for p in integrity.check(store) if p.source.endswith(".zharrays")] == []


def test_arrays_of_a_segment_not_yet_committed_are_kept_and_orphans_removed(store):
    """A bulk writer writes its parts' .zharrays before its commit; another
    process's clean-up after its own commit removed them as 'not in the
    table of contents', and the part's first search rebuilt them."""
    from indexer import postings
    from indexer.arrays_format import file_name

    pending, orphan = "MAIN_pendingpart0001", "MAIN_orphanpart00001"
    (store.index_dir / f"{pending}.pst").write_bytes(b"written, not yet committed")
    for segment in (pending, orphan):
        (store.index_dir / file_name(segment)).write_bytes(b"arrays")
    postings.build_missing(store.open_index(create=False), store.index_dir)
    assert (store.index_dir / file_name(pending)).exists()
    assert not (store.index_dir / file_name(orphan)).exists()
