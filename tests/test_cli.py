"""The command line, through click's CliRunner: exit codes and exact output."""

import json

import pytest
from click.testing import CliRunner

from indexer.cli import cli

from .conftest import SEED


def test_every_command_has_help_text():
    for name, command in cli.commands.items():
        assert command.help and command.help.strip(), name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{name} --{param.name}"


def test_search_builds_the_missing_index_on_its_own(zhsearch, index_dir):
    assert not index_dir.exists()
    result = zhsearch("search", "黎贤花")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1-1 of 1 passages match 黎贤花 (")
    assert lines[2] == "[1] 肇庆市广宁县总工会：担当作为立新功 谱写时代新篇章 · 坚定政治方向 思想政治引领取得新成效"
    assert lines[3] == f"    {SEED.name} · ¶6"
    assert "全国劳动模范黎贤花、省五一劳动奖章获得者朱秀云" in lines[4]


@pytest.mark.readonly
def test_search_json_prints_exactly_one_object(zhsearch):
    result = zhsearch("search", "劳模", "--json", "--limit", "1")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["query"] == "劳模" and data["limit"] == 1 and len(data["hits"]) == 1
    assert "<mark>劳模</mark>" in data["hits"][0]["highlight"]


@pytest.mark.readonly
def test_search_accepts_minus_terms_without_a_double_dash(zhsearch):
    result = zhsearch("search", "劳模", "-宣讲", "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    assert not any("宣讲" in h["text"] for h in json.loads(result.stdout)["hits"])


@pytest.mark.readonly
def test_search_with_no_match_says_so(zhsearch):
    result = zhsearch("search", "不存在的词语")
    assert (result.exit_code, result.stdout) == (0, "No passages match 不存在的词语.\n")


@pytest.mark.readonly
def test_bad_query_is_one_line_error(zhsearch):
    result = zhsearch("search", "  ")
    assert result.exit_code == 2
    assert result.output == "Error: the query is empty\n"


@pytest.mark.readonly
@pytest.mark.parametrize("args, message", [
    (["劳模", "--limt", "3"],
     "Error: No such option '--limt'. (Did you mean one of: '--in', '--limit', '--to'?) "
     "See `zhsearch search --help`.\n"),
    (["劳模", "--from", "yesterday"],
     "Error: --from yesterday is not a date; write it as YYYY-MM-DD, e.g. 2023-05-15\n"),
    (["劳模", "--from", "2023-13-01"],
     "Error: --from 2023-13-01 is not a date; write it as YYYY-MM-DD, e.g. 2023-05-15\n"),
    (["劳模", "--from", "2023-05-01", "--to", "2023-01-01"],
     "Error: --from 2023-05-01 is after --to 2023-01-01\n"),
    (["劳模", "--source", "nosuch.txt"],
     "Error: no report named 'nosuch.txt' is indexed. "
     "Hint: `zhsearch stats --files` lists the reports.\n"),
    (["劳模", "--limit", "-1"],
     "Error: Invalid value for '--limit' / '-n': -1 is not in the range x>=0. "
     "See `zhsearch search --help`.\n"),
])
def test_mistakes_in_a_search_are_one_line_with_status_2(zhsearch, args, message):
    result = zhsearch("search", *args)
    assert (result.exit_code, result.output) == (2, message)


@pytest.mark.parametrize("command", ["search", "export"])
def test_a_bad_filter_is_refused_before_the_index_is_built(zhsearch, index_dir, command):
    # The request is checked when the command line builds it, by the same
    # options for search and export: a typo costs no index build.
    assert not index_dir.exists()
    result = zhsearch(command, "劳模", "--from", "2023-05-01", "--to", "2023-01-01")
    assert (result.exit_code, result.output) == (2, "Error: --from 2023-05-01 is after --to 2023-01-01\n")
    assert not index_dir.exists()


def test_an_unknown_command_is_one_line_with_status_2():
    result = CliRunner().invoke(cli, ["serach", "劳模"])
    assert result.exit_code == 2
    assert result.output == ("Error: No such command 'serach'. Did you mean 'search'? "
                             "See `zhsearch --help`.\n")


@pytest.mark.readonly
def test_options_may_follow_the_query(zhsearch, tmp_path, corpus_dir, index_dir):
    before = json.loads(zhsearch("search", "--limit", "1", "--json", "劳模").stdout)
    after = CliRunner().invoke(cli, ["search", "劳模", "--json", "-n", "1", "--corpus",
                                     str(corpus_dir), "--index", str(index_dir)])
    assert after.exit_code == 0, after.output
    data = json.loads(after.stdout)
    assert data["query"] == "劳模" and data == {**before, "took_ms": data["took_ms"]}


def test_add_and_remove(zhsearch, tmp_path):
    report = tmp_path / "报告 一.txt"
    report.write_text("全县职工运动会隆重开幕。", encoding="utf-8")
    zhsearch("index")
    result = zhsearch("add", str(report))
    # The text and its title from the file name (the report has no title line).
    assert (result.exit_code, result.stdout) == (0, "added 报告 一.txt (2 passages)\n")
    assert zhsearch("add", str(report)).stdout == "unchanged 报告 一.txt\n"
    assert json.loads(zhsearch("search", "运动会", "--json").stdout)["total"] == 1
    result = zhsearch("remove", "报告 一.txt")
    assert (result.exit_code, result.stdout) == (0, "removed 报告 一.txt (2 passages)\n")
    result = zhsearch("remove", "报告 一.txt")
    assert result.exit_code == 1
    assert result.output.startswith("Error: not in the corpus: 报告 一.txt. Hint:")


def test_add_exits_non_zero_when_a_file_is_refused(zhsearch, tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("职工书屋开放。", encoding="utf-8")
    bad.write_bytes(b"\x00\x01\x02" * 100)
    result = zhsearch("add", str(bad), str(good))
    assert result.exit_code == 1
    assert result.stdout == "added good.txt (1 passages)\n"
    assert result.stderr == "refused bad.txt: looks like a binary file, not text\n"


def test_index_and_stats(zhsearch):
    result = zhsearch("index")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"added {SEED.name} (31 passages)", "added 20230515.md (5 passages)",
        "2 files, 36 passages indexed."]
    assert zhsearch("index").stdout == "2 files, 36 passages indexed.\n"
    stats = json.loads(zhsearch("stats", "--json").stdout)
    assert (stats["files"], stats["articles"], stats["passages"]) == (2, 4, 36)


def test_stats_without_an_index_gives_a_hint(zhsearch):
    result = zhsearch("stats")
    assert result.exit_code == 1
    assert "Hint: run `zhsearch index`" in result.output


def test_corrupt_index_gives_a_message_and_rebuild_fixes_it(zhsearch, index_dir):
    zhsearch("index")
    for toc in index_dir.glob("*.toc"):
        toc.write_bytes(b"garbage")
    result = zhsearch("search", "劳模")
    assert result.exit_code == 1
    assert "Hint: run `zhsearch index --rebuild`" in result.output
    rebuilt = zhsearch("index", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "moved to" in rebuilt.stderr
    assert json.loads(zhsearch("search", "劳模", "--json").stdout)["total"] >= 2


@pytest.mark.readonly
def test_explain_prints_the_rule_of_each_term(zhsearch):
    hit = json.loads(zhsearch("search", "托管", "--json", "-n", "1").stdout)["hits"][0]
    result = zhsearch("explain", hit["id"], "托管")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["query words:   托管", "托管: inside: 爱心托管"]
    missing = zhsearch("explain", "nope", "托管")
    assert (missing.exit_code, missing.output) == (
        1, "Error: no passage with the id nope. Hint: the ids are in `zhsearch search QUERY --json`.\n")


@pytest.mark.readonly
def test_search_groups_by_article_and_searches_titles(zhsearch):
    grouped = zhsearch("search", "职工", "--group", "article")
    assert grouped.exit_code == 0, grouped.output
    assert " articles match 职工 (" in grouped.stdout.splitlines()[0]
    assert "more in this article" in grouped.stdout
    data = json.loads(zhsearch("search", "工会", "--in", "title", "--json", "-n", "0").stdout)
    assert {h["kind"] for h in data["hits"]} == {"title"}
    assert sum(data["facets"]["source"].values()) == data["total"]


def test_check_finds_damaged_search_arrays_and_index_rebuilds_them(zhsearch, index_dir):
    assert zhsearch("index").exit_code == 0
    (arrays,) = index_dir.glob("*.zharrays")
    data = bytearray(arrays.read_bytes())
    data[-1] ^= 0xFF
    arrays.write_bytes(bytes(data))
    result = zhsearch("check")
    assert result.exit_code == 1
    assert result.output == (
        f"{arrays.name}: search arrays damaged: checksum mismatch\n"
        "Error: 1 problem found. Hint: run `zhsearch index` to repair the index.\n")
    repaired = zhsearch("index")
    assert repaired.exit_code == 0
    assert f"repairing {arrays.name}: search arrays damaged" in repaired.output
    assert zhsearch("check").exit_code == 0
    assert zhsearch("search", "劳模", "--json").exit_code == 0
