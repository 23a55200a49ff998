"""Hostile and odd report files of issue 19: bombs refused in bounded time and
memory, damaged-looking but real text read.

Every file is built here and read in a child process with a memory limit and
a timeout (``read_in_child``), so a reader that would take hours fails its
test instead of freezing the suite.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.documents import docx_body, docx_bytes, pdf_form_bomb
from tests.test_hostile import read_in_child, refused

# -- PDF: every operator counted, through nested forms -----------------------------------


@pytest.mark.slow
def test_a_pdf_of_nested_forms_is_refused(tmp_path):
    """8 levels of forms, each drawing the next 10 times: 10^8 strokes asked for
    by 2.2 KB (before: 120 s and 1.6 GB, stopped only by the time limit)."""
    data = pdf_form_bomb(levels=8, fanout=10)
    assert len(data) < 3_000
    outcome = read_in_child(tmp_path, data, "forms.pdf")
    assert refused(outcome, "forms", "not a report"), outcome


@pytest.mark.slow
def test_a_pdf_whose_forms_run_millions_of_operators_is_refused(tmp_path):
    """1,000 draws of a form of 2,000 cheap operators (q Q): under the limit
    of forms drawn, over the limit of operators a page runs."""
    data = pdf_form_bomb(levels=3, fanout=10, leaf=b"q Q " * 1_000)
    outcome = read_in_child(tmp_path, data, "operators.pdf")
    assert refused(outcome, "operators", "not a report"), outcome


@pytest.mark.slow
def test_a_pdf_form_drawn_again_and_again_is_counted_each_time(tmp_path):
    """A 5 MB form drawn 100 times is 500 MB of drawing instructions."""
    data = pdf_form_bomb(levels=2, fanout=10, leaf=b" " * 5_000_000 + b"0 0 m 1 1 l S")
    outcome = read_in_child(tmp_path, data, "redrawn.pdf")
    assert refused(outcome, "MB", "not a report"), outcome


# -- one request has one reading time ----------------------------------------------------


@pytest.mark.slow
def test_the_files_of_one_add_share_one_reading_time(tmp_path, monkeypatch):
    """A read that never ends uses up the request's budget (1 s, not the 60 s a
    file may take); the files after it are refused without being read, and the
    next request reads again."""
    from indexer.readers import worker
    from indexer.store import Store

    pool = worker.ReaderPool(memory_mb=2048, seconds=60, request_seconds=1.0, workers=1)
    monkeypatch.setattr(worker, "_pool", pool)
    monkeypatch.setattr(worker, "_pool_pid", os.getpid())
    try:
        store = Store(tmp_path / "corpus", tmp_path / "index")
        (tmp_path / "corpus").mkdir()
        store.add_uploads([("warm.md", "# 标题\n\n正文。\n".encode())])
        [stalled] = pool._all
        # A read that never ends, on any machine: the worker is stopped.
        os.kill(stalled.process.pid, signal.SIGSTOP)
        report = store.add_uploads([(f"{n}.md", f"# 第{n}份\n\n正文。\n".encode())
                                    for n in range(1, 4)])
        assert [(o.name, o.status, o.code) for o in report.outcomes] == [
            ("1.md", "refused", "read_budget"), ("2.md", "refused", "read_budget"),
            ("3.md", "refused", "read_budget")]
        assert "used up the 1 s" in report.outcomes[1].reason
        assert stalled.process.poll() is not None  # killed, not left stopped
        report = store.add_uploads([("4.md", "# 第4份\n\n正文。\n".encode())])
        assert [(o.name, o.status) for o in report.outcomes] == [("4.md", "added")]
    finally:
        pool.close()


# -- docx: runs counted while the zip is inflated ----------------------------------------


@pytest.mark.slow
def test_a_docx_of_a_million_runs_is_refused(tmp_path):
    """1.5 M runs of one character, 100 to a paragraph: ~125 KB that inflate to
    51 MB of XML, under the size and paragraph limits (before: 118 s, 986 MB)."""
    run = "<w:r><w:t>字</w:t></w:r>".encode()
    data = docx_bytes(docx_body((b"<w:p>" + run * 100 + b"</w:p>") * 15_000))
    assert len(data) < 200_000
    outcome = read_in_child(tmp_path, data, "runs.docx")
    assert refused(outcome, "runs", "not a report"), outcome


@pytest.mark.slow
def test_a_docx_of_many_runs_short_of_the_limit_is_read(tmp_path):
    """A long report in runs split by formatting (10 a paragraph) is read whole."""
    paragraph = b"<w:p>" + "<w:r><w:t>劳模</w:t></w:r>".encode() * 10 + b"</w:p>"
    data = docx_bytes(docx_body(paragraph * 5_000))
    outcome = read_in_child(tmp_path, data, "long.docx")
    assert outcome.get("passages") == 5_000, outcome


# -- HTML: unclosed tags nested hundreds deep ---------------------------------------------


@pytest.mark.parametrize("tag, depth", [("font", 500), ("div", 500), ("font", 50_000)])
def test_a_page_of_nested_unclosed_tags_is_read(tmp_path, tag, depth):
    """Old FrontPage pages open a <font> per line and never close one; browsers,
    lxml and html5lib read them (before: RecursionError, refused as damaged)."""
    data = ("<html><body>" + f"<{tag}>劳模精神。" * depth + "</body></html>").encode()
    outcome = read_in_child(tmp_path, data, "frontpage.html")
    assert outcome.get("chars") == len("劳模精神。") * depth, outcome


def test_a_page_of_nested_headers_takes_linear_time(tmp_path):
    """A <header> is read only inside an <article> or <main>: looking that up
    through the parents of each of 5,000 nested headers took 12 s."""
    data = ("<html><body><main>" + "<header>劳模精神。" * 30_000 + "</main></body></html>").encode()
    outcome = read_in_child(tmp_path, data, "headers.html")
    assert outcome.get("chars") == len("劳模精神。") * 30_000, outcome


# -- text: stray NULs and UTF-16 without a byte-order mark -------------------------------

_REPORT = "全国总工会今天在北京表彰一批全国劳动模范，开展最美职工评选活动。\n\n" * 250


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_a_chinese_text_with_a_stray_nul_is_read(tmp_path, suffix):
    """One NUL byte in 16 KB of UTF-8 (or GB18030) made the whole text "binary"."""
    for encoding in ("utf-8", "gb18030"):
        data = _REPORT.encode(encoding)
        data = data[:9000] + b"\x00" + data[9000:]
        outcome = read_in_child(tmp_path, data, "nul" + suffix)
        assert outcome.get("passages") == 250, (encoding, outcome)
        assert outcome["chars"] == len(_REPORT.replace("\n", "")), (encoding, outcome)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path, encoding, suffix):
    data = _REPORT.encode(encoding)
    outcome = read_in_child(tmp_path, data, "utf16" + suffix)
    assert outcome.get("chars") == len(_REPORT.replace("\n", "")), outcome


def test_binary_files_with_zero_bytes_are_still_refused(tmp_path):
    """Zeros in one column (16-bit numbers), or in both (an image): not text."""
    numbers = b"".join(i.to_bytes(2, "little") for i in range(4_000))
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    for data in (numbers, image, b"\x00" * 100 + _REPORT.encode()):
        assert refused(read_in_child(tmp_path, data, "data.txt"), "binary")


@pytest.mark.slow
def test_only_the_time_spent_reading_counts_against_the_budget():
    """Writing the files of a large add into the index takes minutes; that time
    between reads is not reading time."""
    import time

    from indexer.readers import worker

    pool = worker.ReaderPool(memory_mb=2048, seconds=60, request_seconds=3.0, workers=1)
    try:
        budget = pool.budget()
        assert len(pool.read("# 一\n\n正文。\n".encode(), "1.md", budget)) == 1
        time.sleep(3.1)  # as if writing a batch into the index
        assert len(pool.read("# 二\n\n正文。\n".encode(), "2.md", budget)) == 1
        assert 0 < budget.remaining() < 3.0
    finally:
        pool.close()
