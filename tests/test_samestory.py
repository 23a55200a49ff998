"""The same story once: copies of a paragraph in several reports fold into one hit.

A tiny corpus: two reports carry one paragraph with different line breaks
and punctuation widths (a wire copy), a third a near-miss (one word differs),
and all three the same title and a short formula line, which never fold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.records import MAX_SAME_AS
from indexer.samestory import MIN_STORY_CHARS, fingerprint, story_text

from .conftest import make_service

STORY = "全国总工会今天在北京召开表彰大会，授予一批职工全国五一劳动奖章，号召广大职工学习劳模精神、劳动精神、工匠精神。"
FORMULA = "会议还研究了其他事项。"

REPORTS = {
    "20230515.md": f"""# 《新闻联播》（20230515）

## 详细新闻

### 全国总工会表彰劳动模范

{STORY}

{FORMULA}

### 故宫博物院推出新展览

故宫博物院今天推出新展览，展出文物三百余件。
""",
    # The wire copy: other line breaks, half-width commas and a full stop.
    "20230516.txt": """全国总工会表彰劳动模范

全国总工会今天在北京召开表彰大
会, 授予一批职工全国五一劳动奖章,
号召广大职工学习劳模精神、劳动精
神、工匠精神.

另一段：今年各地工会开展技能竞赛，涌现出一批工匠人才。
""",
    # The near-miss: 昨天 for 今天.
    "20230517.md": f"""# 《新闻联播》（20230517）

### 全国总工会表彰劳动模范

{STORY.replace("今天", "昨天")}

{FORMULA}
""",
}


def write_reports(folder: Path, reports: dict[str, str] = REPORTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in reports.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def service(tmp_path):
    return make_service(write_reports(tmp_path / "corpus"), tmp_path / "index")


def by_source(hits):
    return {h.source: h for h in hits}


@pytest.mark.readonly
def test_the_copy_in_another_report_folds_into_the_best_one(service):
    plain = service.search("表彰大会", limit=0)
    folded = service.search("表彰大会", fold="same", limit=0)
    assert plain.total == 3
    assert folded.total == 2 and folded.passages == 3 and folded.folded == "same"
    (kept,) = [h for h in folded.hits if h.same]
    assert kept.same == 1
    (copy,) = kept.same_as
    assert {kept.source, copy.source} == {"20230515.md", "20230516.txt"}
    assert copy.title == "全国总工会表彰劳动模范"
    assert copy.date == {"20230515.md": "2023-05-15", "20230516.txt": "2023-05-16"}[copy.source]
    # The best-ranked copy stays: it is the one the unfolded ranking puts first.
    first_copy = next(h for h in plain.hits if h.source in ("20230515.md", "20230516.txt"))
    assert kept.id == first_copy.id
    # The near-miss is a story of its own.
    near = by_source(folded.hits)["20230517.md"]
    assert near.same == 0 and near.same_as == []
    assert sum(folded.facets["source"].values()) == sum(folded.facets["year"].values()) == 2


@pytest.mark.readonly
def test_titles_and_short_lines_never_fold(service):
    titles = service.search("全国总工会表彰劳动模范", scope="title", fold="same", limit=0)
    assert titles.total == 3 and all(h.same == 0 for h in titles.hits)
    assert len(story_text(FORMULA)) < MIN_STORY_CHARS
    formula = service.search(f'"{FORMULA[:-1]}"', fold="same", limit=0)
    assert formula.total == 2 and {h.source for h in formula.hits} == {"20230515.md", "20230517.md"}


@pytest.mark.readonly
def test_folding_after_grouping_by_article(service):
    grouped = service.search("工匠精神", group="article", fold="same", limit=0)
    assert grouped.grouped == "article" and grouped.folded == "same"
    assert grouped.total == 2 and grouped.passages == 3
    assert sorted(h.same for h in grouped.hits) == [0, 1]
    assert all(h.more == 0 for h in grouped.hits)


@pytest.mark.readonly
def test_the_json_of_a_folded_search(service):
    data = service.search("表彰大会", fold="same").to_json()
    assert list(data)[-3:] == ["grouped", "folded", "passages"]
    assert data["folded"] == "same" and data["passages"] == 3 and data["total"] == 2
    kept = next(h for h in data["hits"] if h["same"])
    assert list(kept)[-2:] == ["same", "same_as"]
    assert list(kept["same_as"][0]) == ["id", "source", "title", "date", "article", "paragraph"]
    # Without fold the JSON has none of it.
    plain = service.search("表彰大会").to_json()
    assert "folded" not in plain and "passages" not in plain
    assert not any("same" in h or "same_as" in h for h in plain["hits"])


def test_copies_in_the_keepers_own_report_stay(tmp_path):
    """The same paragraph twice in one report is that report's own business."""
    folder = write_reports(tmp_path / "corpus", {
        "a.md": f"# 甲\n\n{STORY}\n\n# 乙\n\n{STORY}\n",
        "b.md": f"# 丙\n\n{STORY}\n"})
    result = make_service(folder, tmp_path / "index").search("表彰大会", fold="same", limit=0)
    assert result.total == 2
    assert sorted((h.source, h.same) for h in result.hits) == [("a.md", 0), ("a.md", 1)]


def test_the_list_of_copies_is_capped(tmp_path):
    reports = {f"2023-06-{d:02d}.md": f"# 报道{d}\n\n{STORY}\n" for d in range(1, MAX_SAME_AS + 4)}
    result = make_service(write_reports(tmp_path / "corpus", reports), tmp_path / "index").search(
        "表彰大会", fold="same")
    (hit,) = result.hits
    assert hit.same == MAX_SAME_AS + 2 and len(hit.same_as) == MAX_SAME_AS
    assert result.total == 1 and result.facets["source"] == {hit.source: 1}
    assert len(json.dumps(result.to_json(), ensure_ascii=False)) < 20_000


@pytest.mark.readonly
def test_an_unknown_fold_is_refused(service):
    from indexer.errors import QueryError

    with pytest.raises(QueryError) as error:
        service.search("表彰大会", fold="article")
    assert error.value.code == "bad_fold"


def test_the_fingerprint_ignores_width_case_and_breaks_not_words():
    wide = "ＩＢＭ公司今天在北京发布新一代服务器，售价１２万元。"
    assert fingerprint(wide) == fingerprint("ibm公司今天在北京\n发布新一代服务器, 售价12万元.")
    assert fingerprint(wide) != fingerprint(wide.replace("今天", "昨天")) != 0


# -- the command line and the API ----------------------------------------------------


@pytest.fixture
def folders(tmp_path):
    return write_reports(tmp_path / "corpus"), tmp_path / "index"


def test_cli_search_folds_on_request_and_says_so(folders):
    from click.testing import CliRunner

    from indexer.cli import cli

    corpus, index = folders

    def zhsearch(*args: str):
        result = CliRunner().invoke(cli, ["--corpus", str(corpus), "--index", str(index), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    lines = zhsearch("search", "表彰大会", "--fold", "same").splitlines()
    assert lines[0].startswith("1-2 of 2 stories match 表彰大会 (")
    assert lines[2:4] == ["[1] 全国总工会表彰劳动模范 · 详细新闻",
                          "    20230515.md · ¶2 · 2023-05-15 · +1 same story in other report"]
    assert lines[6:8] == ["[2] 全国总工会表彰劳动模范 · 《新闻联播》（20230517）",
                          "    20230517.md · ¶2 · 2023-05-17"]
    assert zhsearch("search", "表彰大会").splitlines()[0].startswith("1-3 of 3 passages match")
    data = json.loads(zhsearch("search", "表彰大会", "--fold", "same", "--json"))
    assert (data["total"], data["passages"], data["folded"]) == (2, 3, "same")
    assert [h["same"] for h in data["hits"]] == [1, 0]
    assert data["hits"][0]["same_as"] == [{
        "id": data["hits"][0]["same_as"][0]["id"], "source": "20230516.txt",
        "title": "全国总工会表彰劳动模范", "date": "2023-05-16",
        "article": data["hits"][0]["same_as"][0]["article"], "paragraph": 2}]
    refused = CliRunner().invoke(cli, ["--corpus", str(corpus), "--index", str(index),
                                       "search", "表彰大会", "--fold", "article"])
    assert refused.exit_code == 2 and "'article' is not 'same'" in refused.output


def test_api_folds_with_fold_same_and_is_unchanged_without(folders):
    from .conftest import make_app

    client = make_app(*folders).test_client()
    plain = client.get("/api/search?q=表彰大会").get_json()
    assert plain["total"] == 3 and "folded" not in plain
    unfolded = client.get("/api/search?q=表彰大会&fold=none").get_json()
    assert unfolded == {**plain, "took_ms": unfolded["took_ms"]}
    folded = client.get("/api/search?q=表彰大会&fold=same").get_json()
    assert (folded["total"], folded["folded"], folded["passages"]) == (2, "same", 3)
    assert folded["hits"][0]["same_as"][0]["source"] == "20230516.txt"
    assert sum(folded["facets"]["source"].values()) == folded["total"]
    both = client.get("/api/search?q=工匠精神&fold=same&group=article").get_json()
    assert (both["grouped"], both["folded"], both["total"]) == ("article", "same", 2)
    bad = client.get("/api/search?q=表彰大会&fold=article")
    assert bad.status_code == 400 and "合并方式只能是 same" in bad.get_json()["error"]


# -- the result page -----------------------------------------------------------------


def test_the_page_folds_by_default_and_unfolds_on_request(folders):
    import html as htmllib

    from .conftest import make_app

    client = make_app(*folders).test_client()
    page = client.get("/search?q=表彰大会").get_data(as_text=True)
    assert "找到 2 条结果" in page
    assert page.count('<li class="hit">') == 2 and page.count('<details class="same">') == 1
    assert "<summary>另有 1 篇相同报道</summary>" in page
    start = page.index('<details class="same">')
    details = page[start:page.index("</details>", start)]
    assert "20230516.txt" in details and "2023-05-16" in details
    link = htmllib.unescape(details[details.index('href="') + 6:].split('"')[0])
    copy = client.get(link).get_data(as_text=True)
    assert "<mark>表彰大会</mark>" in copy and "20230516.txt" in copy
    assert "<strong>合并相同报道</strong>" in page and "fold=none" in page
    unfolded = client.get("/search?q=表彰大会&fold=none").get_data(as_text=True)
    assert "找到 3 条结果" in unfolded and "相同报道</summary>" not in unfolded
    # The choice follows the other links of the page (facets, pages, grouping).
    assert "fold=none" in unfolded[unfolded.index('class="facets"'):]


def test_what_a_copy_says_is_escaped_on_the_page(tmp_path):
    from .conftest import make_app

    # 乙 ranks first (document order): the copy listed under it is the hostile one.
    reports = {"乙.md": f"# 乙\n\n{STORY}\n",
               "甲<img src=x onerror=alert(1)>.md": f"# <i>标题<script>\n\n{STORY}\n"}
    page = make_app(write_reports(tmp_path / "corpus", reports), tmp_path / "index") \
        .test_client().get("/search?q=表彰大会").get_data(as_text=True)
    start = page.index('<details class="same">')
    details = page[start:page.index("</details>", start)]
    assert "<img" not in page and "<i>" not in page and "<script>" not in page
    assert "甲&lt;img src=x onerror=alert(1)&gt;.md" in details
    assert "&lt;i&gt;标题&lt;script&gt;" in details
