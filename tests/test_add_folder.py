"""``zhsearch add FOLDER``: every report under it, names kept apart, a progress bar."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from indexer import store as store_module
from indexer.cli import cli


@pytest.fixture
def zhsearch(corpus_dir, index_dir):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--corpus", str(corpus_dir), "--index", str(index_dir), *args])
    run("index")
    return run


def total(zhsearch, query: str) -> int:
    return json.loads(zhsearch("search", query, "--json").stdout)["total"]


@pytest.fixture
def folder(tmp_path):
    """简报/ with a report at the top, one a level down, hidden ones and a photo."""
    top = tmp_path / "简报"
    (top / "2023").mkdir(parents=True)
    (top / ".git").mkdir()
    (top / "一月.txt").write_text("全县职工运动会隆重开幕。", encoding="utf-8")
    (top / "2023" / "五月.md").write_text("# 劳模座谈\n\n劳模代表畅谈荔枝节见闻。\n", encoding="utf-8")
    (top / ".草稿.txt").write_text("隐藏的草稿不应加入。", encoding="utf-8")
    (top / ".git" / "config.txt").write_text("版本库的文件不应加入。", encoding="utf-8")
    (top / "合影.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a report")
    return top


def test_add_a_folder_adds_every_report_under_it_and_skips_hidden_files(zhsearch, folder, corpus_dir):
    result = zhsearch("add", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("added 简报/一月.txt (2 passages)\n"
                             "added 简报/2023/五月.md (2 passages)\n")
    assert result.stderr == f"skipped 1 file not in a report format: {folder / '合影.jpg'}\n"
    assert (corpus_dir / "简报" / "2023" / "五月.md").is_file()
    assert (total(zhsearch, "运动会"), total(zhsearch, "荔枝节")) == (1, 1)
    assert (total(zhsearch, "草稿"), total(zhsearch, "版本库")) == (0, 0)
    again = zhsearch("add", str(folder))
    assert again.stdout == "unchanged 简报/一月.txt\nunchanged 简报/2023/五月.md\n"


def test_reports_of_the_same_name_from_different_folders_are_both_kept_and_said(
        zhsearch, tmp_path, corpus_dir):
    first, second = tmp_path / "甲" / "报告.txt", tmp_path / "乙" / "报告.txt"
    for path, text in [(first, "第一份：劳模座谈。"), (second, "第二份：职工运动会。")]:
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    result = zhsearch("add", str(first), str(second))
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"kept both: {first} is 报告.txt, so {second} goes in as 报告 (2).txt\n"
                             "added 报告.txt (2 passages)\n"
                             "added 报告 (2).txt (2 passages)\n")
    assert (total(zhsearch, "劳模座谈"), total(zhsearch, "运动会")) == (1, 1)
    # The same add again finds both where they went: nothing is copied twice.
    again = zhsearch("add", str(first), str(second))
    assert again.stdout.splitlines()[1:] == ["unchanged 报告.txt", "unchanged 报告 (2).txt"]
    assert sorted(p.name for p in corpus_dir.glob("报告*")) == ["报告 (2).txt", "报告.txt"]


def test_same_names_in_two_subfolders_keep_their_paths(zhsearch, tmp_path):
    for year in ("2022", "2023"):
        (tmp_path / "简报" / year).mkdir(parents=True)
        (tmp_path / "简报" / year / "会议.txt").write_text(f"{year}年桑基鱼塘现场会召开。", encoding="utf-8")
    result = zhsearch("add", str(tmp_path / "简报"))
    assert result.stdout == ("added 简报/2022/会议.txt (2 passages)\n"
                             "added 简报/2023/会议.txt (2 passages)\n")
    assert total(zhsearch, "桑基鱼塘") == 2


def test_a_folder_without_reports_and_the_corpus_itself_are_refused(zhsearch, tmp_path, corpus_dir):
    empty = tmp_path / "空"
    empty.mkdir()
    result = zhsearch("add", str(empty))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"refused {empty}: no report files in it\n"
    result = zhsearch("add", str(corpus_dir))
    assert result.exit_code == 1
    assert result.stderr == (f"refused {corpus_dir}: it is the corpus folder or inside it; "
                             "`zhsearch index` indexes what is there\n")


def test_add_shows_a_progress_bar_over_files_and_bytes(zhsearch, folder, recorded_bars):
    assert zhsearch("add", str(folder)).exit_code == 0
    size = sum(p.stat().st_size for p in [folder / "一月.txt", folder / "2023" / "五月.md"])
    [bar] = [b for b in recorded_bars if b.verb == "Adding"]
    assert (bar.files, bar.total, bar.done, bar.postfix) == (2, size, size, "2/2 files")


def test_a_large_add_is_written_in_batches_and_all_of_it_goes_in(store, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "ADD_BATCH_BYTES", 100)
    paths = []
    for n in range(12):
        path = tmp_path / "in" / f"{n:02d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"第{n}号报告：全县职工书屋建设推进会召开。", encoding="utf-8")
        paths.append(path)
    planned, done = [], []
    report = store.add_files(paths, progress=lambda name, size: done.append(size),
                             on_plan=lambda files, size: planned.append((files, size)))
    assert [o.status for o in report.outcomes] == ["added"] * 12
    assert planned == [(12, sum(p.stat().st_size for p in paths))]
    assert sum(done) == planned[0][1] and len(done) == 12
    from indexer.search import SearchService
    assert SearchService(store).search("职工书屋").total == 12


def test_a_numbered_name_never_replaces_another_report_in_the_corpus(tmp_path):
    from indexer.adding import plan_add
    from indexer.corpus import Corpus

    corpus = Corpus(tmp_path / "corpus")
    corpus.folder.mkdir()
    (corpus.folder / "报告 (2).txt").write_text("早先加入的另一份报告。", encoding="utf-8")
    first, second = tmp_path / "甲" / "报告.txt", tmp_path / "乙" / "报告.txt"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(f"{path.parent.name}的报告。", encoding="utf-8")
    plan = plan_add([first, second, first], corpus)
    assert [(a.name, a.path) for a in plan.additions] == [("报告.txt", first), ("报告 (3).txt", second)]
