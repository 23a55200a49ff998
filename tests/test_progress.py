"""On a terminal ``index`` and ``add`` draw one progress bar, not a line per file.

The CliRunner tests elsewhere see output that is not a terminal, where every
file keeps its line. Here ``zhsearch`` runs as a real process on a
pseudo-terminal, as a person at a terminal runs it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

FILES = 30
BAD = "坏.pdf"
REFUSED = "not a PDF file (no %PDF header)"


def run_on_a_terminal(*args: str, env: dict[str, str] | None = None,
                      timeout: float = 300) -> tuple[int, str]:
    """``zhsearch ARGS`` with stdout and stderr on one pseudo-terminal of
    120 columns; its exit status and everything it wrote. The timeout only
    guards against a hang."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "indexer.cli", *args], cwd=ROOT,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                               env={**os.environ, "TERM": "xterm", **(env or {})})
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            process.kill()
            pytest.fail(f"zhsearch {' '.join(args)} did not end in {timeout} s")
    finally:
        os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def shown_lines(output: str) -> list[str]:
    """The lines a person sees at the end: a bar redrawn with ``\\r`` on
    one line leaves only what was written after its last redraw."""
    return [line.rsplit("\r", 1)[-1].rstrip() for line in output.replace("\r\n", "\n").split("\n")]


def bar_draws(output: str, verb: str) -> list[str]:
    """Every drawing of the bar (each starts with ``\\r``)."""
    return [d.strip() for d in output.replace("\r\n", "\n").replace("\n", "\r").split("\r")
            if d.startswith(verb)]


def write_reports(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(FILES):
        (folder / f"{n:02d}.txt").write_text(f"第{n}号简报：全县职工书屋建设推进会召开。\n\n"
                                             "劳模代表畅谈荔枝节见闻。\n", encoding="utf-8")
    (folder / BAD).write_bytes(b"\x00\x01 not a pdf at all")


@pytest.mark.slow
def test_index_on_a_terminal_draws_a_bar_names_the_refused_file_and_sums_up(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_reports(corpus)
    status, output = run_on_a_terminal("--corpus", str(corpus), "--index", str(index), "index")
    assert status == 1, output  # a refused file
    draws = bar_draws(output, "Indexing")
    assert any(f"/{FILES + 1} files" in d and "B/s" in d and "left" in d for d in draws), output
    # Once every file is read, the bar says the index is being written.
    assert any(f"{FILES + 1}/{FILES + 1} files read in" in d and "writing the index" in d
               for d in draws), output
    lines = [line for line in shown_lines(output) if line]
    assert f"refused {BAD}: {REFUSED}" in lines
    assert f"{FILES + 1} files: {FILES} added, 1 refused; {2 * FILES} passages written." in lines
    assert f"{FILES} files, {2 * FILES} passages indexed." in lines
    assert not [line for line in lines if line.startswith("added ")]
    # (The check after the sync finds the refused file not indexed and tries
    # it again: a refusal, a repair and its count, as off a terminal.)
    assert len(lines) <= 6, lines


@pytest.mark.slow
def test_verbose_on_a_terminal_keeps_a_line_per_file(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_reports(corpus)
    status, output = run_on_a_terminal("--corpus", str(corpus), "--index", str(index),
                                       "index", "--verbose")
    assert status == 1, output
    lines = shown_lines(output)
    assert sorted(line for line in lines if line.startswith("added ")) == [
        f"added {n:02d}.txt (2 passages)" for n in range(FILES)]
    assert f"refused {BAD}: {REFUSED}" in lines
    assert not [line for line in lines if line.startswith(f"{FILES + 1} files:")]


@pytest.mark.slow
def test_add_of_a_folder_on_a_terminal_draws_a_bar_and_names_what_it_skips(tmp_path):
    corpus, index, folder = tmp_path / "corpus", tmp_path / "index", tmp_path / "简报"
    corpus.mkdir()
    write_reports(folder)
    (folder / "合影.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a report")
    at = ("--corpus", str(corpus), "--index", str(index))
    status, output = run_on_a_terminal(*at, "add", str(folder))
    assert status == 1, output
    assert any(f"/{FILES + 1} files" in d and "B/s" in d and "left" in d
               for d in bar_draws(output, "Adding")), output
    lines = [line for line in shown_lines(output) if line]
    assert lines == [
        f"skipped 1 file not in a report format: {folder / '合影.jpg'}",
        f"refused 简报/{BAD}: {REFUSED}",
        f"{FILES + 1} files: {FILES} added, 1 refused; {2 * FILES} passages written.",
    ]
    # --verbose: a line per file, as when the output is not a terminal.
    (folder / "new.txt").write_text("新增的一份简报。", encoding="utf-8")
    status, output = run_on_a_terminal(*at, "add", str(folder), "--verbose")
    lines = shown_lines(output)
    assert [line for line in lines if line.startswith("unchanged ")] == [
        f"unchanged 简报/{n:02d}.txt" for n in range(FILES)]
    assert "added 简报/new.txt (1 passages)" in lines



def test_search_verbose_names_the_files_it_indexed_first_on_stderr(zhsearch, corpus_dir):
    """`search` builds the index first: --verbose says what went in, on
    stderr, and the JSON on stdout is the same as without it."""
    (corpus_dir / BAD).write_bytes(b"\x00\x01 not a pdf at all")
    result = zhsearch("search", "劳模", "--json", "--verbose")
    assert result.exit_code == 0, result.output
    lines = sorted(result.stderr.splitlines())
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "added 000_37542822596f49c6.txt", "added 20230515.md"]
    assert lines[2:] == [f"refused {BAD}: {REFUSED}"]
    assert json.loads(result.stdout)["total"] == json.loads(
        zhsearch("search", "劳模", "--json").stdout)["total"] > 0


def test_the_bar_counts_a_refused_file_so_it_reaches_every_file(zhsearch, corpus_dir,
                                                                  monkeypatch, recorded_bars):
    """A file refused before it is read (too large) still moves the bar: it
    ends at 3/3 files, and says the index is being written, not 2/3."""
    from indexer import store as store_module

    limit = max(p.stat().st_size for p in corpus_dir.iterdir())
    (corpus_dir / "大.txt").write_text("很大的报告。" * limit, encoding="utf-8")
    monkeypatch.setattr(store_module, "MAX_FILE_BYTES", limit)
    result = zhsearch("index")
    assert "refused 大.txt: larger than" in result.stderr
    [bar] = recorded_bars
    assert (bar.files, bar.postfix, bar.done) == (3, "3/3 files", bar.total)


def test_a_second_plan_starts_a_new_bar_that_counts_from_nothing(recorded_bars):
    """`index --rebuild` plans again when it set a damaged index aside: the
    first bar goes and the second counts its own files (not 3/2 files)."""
    from indexer import cli as cli_module

    with cli_module._progress() as callbacks:
        callbacks["on_plan"](2, 20)
        callbacks["progress"]("a.txt", 10)
        callbacks["on_plan"](2, 20)
        callbacks["progress"]("a.txt", 10)
        callbacks["progress"]("b.txt", 10)
    assert [(b.postfix, b.closed) for b in recorded_bars] == [("1/2 files", True),
                                                              ("2/2 files", True)]


def test_a_rebuild_read_twice_on_a_terminal_keeps_one_clock(monkeypatch):
    """`index --rebuild` reads every file again after a damaged segment: the
    second 'writing the index' line started the clock thread a second time,
    and the command ended in a traceback (cannot join a thread not started)."""
    from indexer import cli as cli_module

    class TerminalBar:
        disable = False
        format_dict = {"elapsed": 1.0}
        bar_format = ""

        def __init__(self, total, files, verb):
            self.refreshed = 0

        def update(self, size):
            pass

        def set_postfix_str(self, text, refresh=True):
            pass

        def format_interval(self, seconds):
            return "00:01"

        def refresh(self):
            self.refreshed += 1

        def close(self):
            pass

    monkeypatch.setattr(cli_module, "_progress_bar", TerminalBar)
    with cli_module._progress() as callbacks:
        for _ in range(2):  # the first pass, then the rebuild's second
            callbacks["on_plan"](1, 10)
            callbacks["progress"]("a.txt", 10)
