"""`zhsearch reports`, `show` and `export` through click's CliRunner: exit codes and exact output."""

from __future__ import annotations

import csv
import re
import io
import json

import pytest

from .conftest import SEED

SIZE = SEED.stat().st_size


@pytest.mark.readonly
def test_reports_lists_every_report_with_counts_per_year(zhsearch):
    result = zhsearch("reports")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "date        articles  passages        bytes  report",
        "2023-05-15         2         5          440  20230515.md",
        f"undated            2        31  {SIZE:>11,}  {SEED.name}  (肇庆市广宁县总工会, 肇庆高新区总工会)",
        "2 reports, 4 articles, 36 passages. By year: 2023 1, undated 1.",
    ]
    assert zhsearch("reports", "--sort", "name").stdout.splitlines()[1].endswith(SEED.name + "  (肇庆市广宁县总工会, 肇庆高新区总工会)")


@pytest.mark.readonly
def test_reports_json(zhsearch):
    result = zhsearch("reports", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["total"], data["articles"], data["passages"]) == (2, 4, 36)
    assert (data["years"], data["undated"]) == ({"2023": 1}, 1)
    assert data["reports"][0] == {"source": "20230515.md", "date": "2023-05-15", "units": [],
                                  "articles": 2, "passages": 5, "size": 440}


@pytest.mark.readonly
def test_reports_bad_sort_is_a_usage_error(zhsearch):
    result = zhsearch("reports", "--sort", "size")
    assert result.exit_code == 2
    assert result.output == ("Error: Invalid value for '--sort': 'size' is not one of 'date', "
                             "'name', 'passages'. See `zhsearch reports --help`.\n")


@pytest.mark.readonly
def test_show_prints_the_article_in_order(zhsearch):
    article = json.loads(zhsearch("search", "全国劳动模范", "--json").stdout)["hits"][0]["article"]
    result = zhsearch("show", article)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "全国总工会表彰劳动模范\n"
        "20230515.md · 2023-05-15\n"
        "\n¶1 [title] 全国总工会表彰劳动模范\n"
        "\n¶2 央视网消息（新闻联播）：全国总工会今天在北京表彰一批全国劳动模范和先进工作者。\n"
        "\n¶3 会议强调，要大力弘扬劳模精神、劳动精神、工匠精神。\n")


@pytest.mark.readonly
def test_show_json_is_the_article_object(zhsearch):
    hit = json.loads(zhsearch("search", "黎贤花", "--json").stdout)["hits"][0]
    data = json.loads(zhsearch("show", hit["article"], "--json").stdout)
    assert data["id"] == hit["article"] and data["title"] == hit["title"]
    assert [p["paragraph"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    assert hit["text"] in [p["text"] for p in data["passages"]]


@pytest.mark.readonly
def test_show_unknown_article_is_one_line_with_status_1(zhsearch):
    result = zhsearch("show", "nosuch-1")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("Error: no article 'nosuch-1' is indexed. "
                             "Hint: `zhsearch search --json` gives each hit's article id.\n")


@pytest.mark.readonly
def test_export_csv_to_stdout_has_a_bom_and_every_hit(zhsearch):
    total = json.loads(zhsearch("search", "工会", "--json").stdout)["total"]
    result = zhsearch("export", "工会")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert table[0] == ["source", "title", "section", "date", "paragraph", "page", "text"]
    assert len(table) - 1 == total > 10


def test_export_jsonl_to_a_file_with_options_after_the_query(zhsearch, tmp_path):
    target = tmp_path / "out" / "文物.jsonl"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    expected = json.loads(zhsearch("search", "文物", "--source", "20230515.md", "--limit", "0",
                                   "--json").stdout)["hits"]
    result = zhsearch("export", "文物", "--format", "jsonl", "-o", str(target),
                      "--source", "20230515.md")
    assert (result.exit_code, result.stdout) == (0, f"1 hit written to {target}\n")
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert rows == [{k: h[k] for k in ("source", "title", "section", "date", "paragraph",
                                       "page", "text")} for h in expected]
    assert [p.name for p in target.parent.iterdir()] == ["文物.jsonl"], "no temporary file left"


@pytest.mark.readonly
def test_export_takes_minus_words_and_options_before_the_query(zhsearch):
    result = zhsearch("export", "--format", "jsonl", "工会", "-劳模")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and not any("劳模" in r["text"] for r in rows)


@pytest.mark.readonly
@pytest.mark.parametrize("args, status, message", [
    (["  "], 2, "Error: the query is empty\n"),
    (["劳模", "--format", "xlsx"], 2,
     "Error: Invalid value for '--format': 'xlsx' is not one of 'csv', 'jsonl'. "
     "See `zhsearch export --help`.\n"),
    (["劳模", "--source", "nosuch.txt"], 2,
     "Error: no report named 'nosuch.txt' is indexed. "
     "Hint: `zhsearch stats --files` lists the reports.\n"),
])
def test_export_mistakes_are_one_line(zhsearch, args, status, message):
    result = zhsearch("export", *args)
    assert (result.exit_code, result.output) == (status, message)


def test_export_to_an_unwritable_place_says_so(zhsearch, tmp_path):
    # A missing folder is refused, as other tools do, never made (issue 19).
    missing = tmp_path / "no" / "such" / "dir"
    result = zhsearch("export", "劳模", "-o", str(missing / "x.csv"))
    assert (result.exit_code, result.output) == (
        2, f"Error: cannot write {missing / 'x.csv'}: no folder {missing}\n")
    assert not (tmp_path / "no").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = zhsearch("export", "劳模", "-o", str(blocker / "x.csv"))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot write {blocker / 'x.csv'}: ")
    assert result.output.count("\n") == 1


def test_show_gives_the_pdf_page_of_each_passage(zhsearch, corpus_dir):
    from .test_formats import P2, newspaper_pdf

    (corpus_dir / "paper.pdf").write_bytes(newspaper_pdf())
    hits = json.loads(zhsearch("search", "代表大会", "--source", "paper.pdf", "--json").stdout)["hits"]
    result = zhsearch("show", hits[0]["article"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.endswith(P2))
    assert re.fullmatch(rf"¶\d+ p\.1 {P2}", line)
