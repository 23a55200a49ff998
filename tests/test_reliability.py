"""Crashes, concurrent writers, stale locks and bad files: nothing lost.

The crash and concurrency tests run real ``zhsearch`` processes.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.search import SearchService
from indexer import integrity
from indexer.records import content_hash
from indexer.store import Store

# Sentences cycled to make reports long enough to kill a process while it writes.
SENTENCES = [
    "县总工会组织开展职工技能竞赛，参赛职工三百余人。",
    "各级工会深入企业走访慰问困难职工，送去温暖。",
    "劳模创新工作室围绕生产难题开展技术攻关。",
    "工会法律援助中心为职工提供免费法律咨询服务。",
]


def _report(words: int, marker: str) -> str:
    lines = [SENTENCES[i % len(SENTENCES)] for i in range(words)]
    lines[len(lines) // 2] = f"本文标记{marker}出现在这里。"
    return "\n".join(lines)


def _zhsearch(store: Store, *args: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "indexer.cli", "--corpus", str(store.corpus_dir),
               "--index", str(store.index_dir), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **popen)


def _snapshot(store: Store) -> tuple[int, list[str]]:
    result = SearchService(store).search("黎贤花 OR 故宫 OR 工人文化宫", limit=0)
    return result.total, sorted(h.id for h in result.hits)


def _kill_while_running(process: subprocess.Popen, after: float) -> None:
    time.sleep(after)
    assert process.poll() is None, "the command finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the command and its index workers
    process.wait()


@pytest.mark.slow  # real processes, seconds each
@pytest.mark.parametrize("command, files", [("index", 60), ("add", 1)])
def test_sigkill_mid_write_leaves_the_index_as_it_was(store, tmp_path, command, files):
    before = _snapshot(store)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for n in range(files):
        # Plenty of text: above the size where indexing uses worker processes.
        (incoming / f"big{n}.txt").write_text(
            _report(60000 // files, f"甲{n}乙"), encoding="utf-8")
    if command == "index":
        for path in incoming.iterdir():
            path.rename(store.corpus_dir / path.name)
        process = _zhsearch(store, "index")
    else:
        process = _zhsearch(store, "add", *map(str, incoming.iterdir()))
    _kill_while_running(process, after=2.0)

    # The index opens and answers exactly as before the command.
    assert _snapshot(Store(store.corpus_dir, store.index_dir)) == before
    # Running the command again completes the work, with no duplicates.
    if command == "add":
        rerun = _zhsearch(store, "add", *map(str, incoming.iterdir()))
    else:
        rerun = _zhsearch(store, "index")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    fresh = Store(store.corpus_dir, store.index_dir)
    assert integrity.check(fresh) == []
    service = SearchService(fresh)
    assert all(service.search(f"甲{n}乙").total == 1 for n in range(files))
    assert _snapshot(fresh)[0] == before[0]


@pytest.mark.slow  # real processes, seconds each
def test_two_adds_started_together_both_succeed(store, tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"同时{n}.txt"
        path.write_text(_report(3000, f"并发{n}号"), encoding="utf-8")
        paths.append(path)
    processes = [_zhsearch(store, "add", str(p)) for p in paths]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    fresh = Store(store.corpus_dir, store.index_dir)
    assert integrity.check(fresh) == []
    service = SearchService(fresh)
    assert [service.search(f"并发{n}号").total for n in range(2)] == [1, 1]


# Holds the writer lock until a line arrives on its stdin, or for at most
# ``seconds``: a test lets go when it has seen what it waits for, never after
# a guess of how long another process takes to start.
HOLD_LOCK = """
import select, sys
from indexer.store import Store
store = Store(sys.argv[1], sys.argv[2])
with store.transaction():
    print("locked", flush=True)
    select.select([sys.stdin], [], [], float(sys.argv[3]))
"""


def _hold_lock(store: Store, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store.corpus_dir), str(store.index_dir), str(seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.slow  # real processes, seconds each
def test_a_writer_waits_for_the_lock_and_says_so(store, tmp_path):
    # The lock is held until the add has said it waits, however slowly the
    # add starts (it once took longer than a fixed 8 s hold on a loaded machine).
    holder = _hold_lock(store, 600)
    new = tmp_path / "wait.txt"
    new.write_text("等待锁的报告。", encoding="utf-8")
    adding = _zhsearch(store, "add", str(new))
    said = next((line for line in iter(adding.stderr.readline, "") if line.startswith("Waiting")),
                "")  # the first such line, or "" when the add exits without one
    holder.stdin.write("go\n")
    holder.stdin.close()
    holder.wait(timeout=60)
    out, err = adding.communicate(timeout=120)
    assert "Waiting for another zhsearch process to finish writing the index" in said
    assert out == "added wait.txt (1 passages)\n", err


@pytest.mark.slow  # real processes, seconds each
def test_a_lock_left_by_a_killed_process_does_not_block(store, tmp_path):
    holder = _hold_lock(store, 600)
    holder.kill()
    holder.wait()
    new = tmp_path / "after.txt"
    new.write_text("锁释放之后的报告。", encoding="utf-8")
    started = time.monotonic()
    process = _zhsearch(store, "add", str(new))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert time.monotonic() - started < 30
    assert "Waiting" not in err


@pytest.mark.slow  # real processes, seconds each
def test_searches_keep_answering_while_a_file_is_added(store, tmp_path):
    service = SearchService(store)
    expected = service.search("黎贤花").total
    big = tmp_path / "big.txt"
    big.write_text(_report(20000, "写入中"), encoding="utf-8")
    writer = threading.Thread(target=Store(store.corpus_dir, store.index_dir).add_files, args=([big],))
    writer.start()
    answers = []
    while writer.is_alive():
        answers.append(service.search("黎贤花").total)
    writer.join()
    assert answers and set(answers) == {expected}
    time.sleep(1.1)  # past the searcher's refresh interval
    assert service.search("写入中").total == 1


def test_a_huge_file_is_refused_without_reading_it(store, tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse: no 200 MB written to disk
    report = store.add_files([huge])
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("refused", "larger than 100 MB; split it into smaller reports")]


def test_check_finds_what_is_wrong_and_index_repairs_it(store):
    from click.testing import CliRunner

    from indexer.cli import cli
    args = ["--corpus", str(store.corpus_dir), "--index", str(store.index_dir)]
    assert CliRunner().invoke(cli, [*args, "check"]).exit_code == 0
    # A passage too many and an orphan, as a bug or a half-applied repair would leave them.
    digest = content_hash((store.corpus_dir / "20230515.md").read_bytes())
    with store.transaction() as txn:
        writer = txn.writer
        writer.add_document(id="dup-1-1", kind="body", source="20230515.md", file_hash=digest,
                            content="重复的段落。")
        writer.add_document(id="orphan-1-1", kind="body", source="gone.txt", content="孤儿段落。")
    result = CliRunner().invoke(cli, [*args, "check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "gone.txt: passages without a file record",
        "20230515.md: 6 passages indexed, 5 expected",
    ]
    assert result.output.rstrip().endswith("Hint: run `zhsearch index` to repair the index.")
    assert CliRunner().invoke(cli, [*args, "index"]).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "check"]).exit_code == 0
    assert integrity.check(Store(store.corpus_dir, store.index_dir)) == []


def test_corpus_files_are_written_atomically(store, tmp_path, monkeypatch):
    """A failure while writing the corpus copy leaves the old file intact."""
    target = store.corpus_dir / "20230515.md"
    original = target.read_bytes()
    new = tmp_path / "20230515.md"
    new.write_text("# 新版本\n\n完全不同的内容。\n", encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", fail)
    report = store.add_files([new])
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("refused", "cannot write it to the corpus: No space left on device")]
    assert target.read_bytes() == original
    assert not [p for p in Path(store.corpus_dir).iterdir() if p.name.startswith(".zhsearch-")]
    assert SearchService(store).search("故宫").total > 0


def test_a_searcher_still_reads_its_segments_after_a_merge_deleted_their_files(store, tmp_path):
    report = tmp_path / "合并.txt"
    report.write_text("合并之前的段落：劳模座谈会。", encoding="utf-8")
    store.add_files([report])  # a second segment
    service = SearchService(store, refresh_seconds=3600.0)  # keep this searcher
    held = service.searcher()
    assert len(held.reader().leaf_readers()) > 1
    # A merge of every segment deletes the files the held searcher was opened on.
    store.open_index().optimize()
    assert service.searcher() is held
    assert service.search("劳模").total >= 3
