"""The archive library (indexer/archive.py): the report list, a report's articles,
an article's passages, the original file and the export of every hit."""

from __future__ import annotations

import csv
import io
import json

import pytest

from indexer.archive import Archive, csv_bytes, jsonl_bytes, unit_of
from indexer.errors import NotInCorpus, QueryError, UnknownArticle
from indexer.search import SearchService

from .conftest import SEED
from .test_formats import P2, newspaper_pdf

GUANGNING = "肇庆市广宁县总工会"
GAOXIN = "肇庆高新区总工会"


@pytest.fixture
def archive(service) -> Archive:
    return Archive(service)


def test_report_list_has_date_units_counts_and_years(archive):
    listing = archive.reports()
    assert [(r.source, r.date, r.units, r.articles, r.passages) for r in listing.reports] == [
        ("20230515.md", "2023-05-15", [], 2, 5),
        (SEED.name, None, [GUANGNING, GAOXIN], 2, 31),
    ]
    assert listing.reports[1].size == SEED.stat().st_size
    assert (listing.years, listing.undated) == ({"2023": 1}, 1)
    assert listing.units == {GUANGNING: 1, GAOXIN: 1}
    data = listing.to_json()
    assert (data["total"], data["articles"], data["passages"]) == (2, 4, 36)
    assert data["reports"][1] == {"source": SEED.name, "date": None, "units": [GUANGNING, GAOXIN],
                                  "articles": 2, "passages": 31, "size": SEED.stat().st_size}


def test_report_list_sorts_by_date_name_and_passages(archive, store, tmp_path):
    extra = tmp_path / "2021年报告.txt"
    extra.write_text("2021年3月1日\n\n阿里工会举办职工运动会。\n", encoding="utf-8")
    store.add_files([extra])
    archive.service.refresh()
    by = {sort: [r.source for r in archive.reports(sort).reports]
          for sort in ("date", "name", "passages")}
    assert by["date"] == ["20230515.md", "2021年报告.txt", SEED.name]  # undated last
    # By pinyin: "000…" < "2021nian…" < "20230515"
    assert by["name"] == [SEED.name, "2021年报告.txt", "20230515.md"]
    assert by["passages"] == [SEED.name, "20230515.md", "2021年报告.txt"]
    with pytest.raises(QueryError) as caught:
        archive.reports("size")
    assert caught.value.code == "bad_sort"


@pytest.mark.parametrize("title, unit", [
    ("肇庆市广宁县总工会：担当作为立新功", GUANGNING),
    ("肇庆高新区总工会:四个聚焦", GAOXIN),
    ("全国总工会表彰劳动模范", None),
    ("习近平：坚定不移走中国特色社会主义道路", None),
    ("总书记说：“要团结”，全县响应", None),
    # News kickers name events and columns, not units.
    ("国务院联防联控机制发布会：疫情防控形势总体平稳", None),
    ("多国人士关注两会：中国发展带来机遇", None),
    ("【奋斗者正青春】英雄地质队：找矿一线的青春", None),
    ("国家卫健委：加强老年人疫苗接种", "国家卫健委"),
    ("", None),
])
def test_unit_is_the_organisation_a_title_opens_with(title, unit):
    assert unit_of(title) == unit


def test_one_report_lists_its_articles_in_order(archive):
    view = archive.report(SEED.name)
    assert view.summary.units == [GUANGNING, GAOXIN]
    assert [(a.title, a.passages, a.pages) for a in view.articles] == [
        (f"{GUANGNING}：担当作为立新功 谱写时代新篇章", 13, []),
        (f"{GAOXIN}：四个聚焦 交出一份服务职工高分答卷", 18, []),
    ]
    # Each id opens the article it names.
    for listed in view.articles:
        assert archive.article(listed.id).title == listed.title
    with pytest.raises(NotInCorpus):
        archive.report("nosuch.txt")


@pytest.mark.readonly
def test_article_passages_in_order_and_unknown_id(archive, service):
    hit = service.search("黎贤花").hits[0]
    article = archive.article(hit.article)
    assert [p.paragraph for p in article.passages] == list(range(1, len(article.passages) + 1))
    data = article.to_json()
    assert data["id"] == hit.article and data["source"] == SEED.name
    assert any("黎贤花" in p["text"] for p in data["passages"])
    assert list(data["passages"][0]) == ["id", "paragraph", "kind", "section", "page", "text"]
    with pytest.raises(UnknownArticle) as caught:
        archive.article("nosuch-1")
    assert caught.value.code == "unknown_article"


def test_pdf_pages_reach_the_report_and_the_article(store, tmp_path):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(newspaper_pdf())
    store.add_files([pdf])
    archive = Archive(SearchService(store))
    view = archive.report("paper.pdf")
    assert view.articles and all(a.pages for a in view.articles)
    assert sorted({p for a in view.articles for p in a.pages}) == [1, 2]
    hit = next(h for h in archive.service.search("代表大会", limit=0).hits if h.source == "paper.pdf")
    article = archive.article(hit.article)
    assert [p.page for p in article.passages if p.text == P2] == [1]


@pytest.mark.readonly
def test_export_holds_every_hit_with_the_filters_of_search(archive, service):
    everything = service.search("工会", limit=0)
    rows = archive.export("工会")
    assert len(rows) == everything.total > 10
    assert [(r.source, r.paragraph, r.text) for r in rows] == \
        [(h.source, h.paragraph, h.text) for h in everything.hits]
    only = archive.export("工会", source="20230515.md")
    assert only and {r.source for r in only} == {"20230515.md"}
    dated = archive.export("工会", date_from="2023-01-01")
    assert {r.date for r in dated} == {"2023-05-15"}
    assert archive.export("不存在的词语") == []


def test_export_refuses_more_hits_than_allowed_before_reading_them(archive):
    total = archive.service.search("工会").total
    assert len(archive.export("工会", max_hits=total)) == total
    with pytest.raises(QueryError) as caught:
        archive.export("工会", max_hits=total - 1)
    assert caught.value.code == "too_many_hits"
    assert caught.value.details == {"total": str(total), "limit": str(total - 1)}


def test_export_never_holds_more_hits_than_allowed_when_the_index_grew_after_the_count(
        archive, monkeypatch):
    """The count is taken on one commit, the hits read on a newer one with
    more: still refused, not handed out over the limit."""
    import dataclasses

    search = archive.service.search
    total = search("工会").total
    calls = []

    def search_then_commit(request, *args, **kwargs):
        result = search(request, *args, **kwargs)
        calls.append(request)
        # The first call counts on the older, smaller commit.
        return dataclasses.replace(result, total=total - 1) if len(calls) == 1 else result

    monkeypatch.setattr(archive.service, "search", search_then_commit)
    with pytest.raises(QueryError) as caught:
        archive.export("工会", max_hits=total - 1)
    assert caught.value.code == "too_many_hits" and len(calls) == 2


def test_csv_opens_in_a_spreadsheet_and_jsonl_reads_back(archive):
    rows = archive.export("劳模")
    data = csv_bytes(rows)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["source", "title", "section", "date", "paragraph", "page", "text"]
    assert [row[6] for row in table[1:]] == [r.text for r in rows]
    lines = jsonl_bytes(rows).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [r.to_json() for r in rows]


def test_csv_cell_that_a_spreadsheet_would_run_is_written_as_text(store, tmp_path):
    report = tmp_path / "公式.txt"
    report.write_text("=HYPERLINK(\"http://example.org\",\"点击领取工会福利\")\n", encoding="utf-8")
    store.add_files([report])
    archive = Archive(SearchService(store))
    rows = [r for r in archive.export("工会福利") if r.source == "公式.txt"]
    assert rows[0].text.startswith("=")  # the row itself is the passage as indexed
    table = list(csv.reader(io.StringIO(csv_bytes(rows).decode("utf-8-sig"))))
    assert table[1][6].startswith("'=HYPERLINK")


def test_original_is_the_corpus_file_and_never_a_path_out_of_it(archive, corpus_dir, tmp_path):
    assert archive.original(SEED.name) == corpus_dir / SEED.name
    (tmp_path / "secret.txt").write_text("密码", encoding="utf-8")
    (corpus_dir / ".hidden.txt").write_text("隐藏", encoding="utf-8")
    (corpus_dir / "userdict.dic").write_text("劳模 10\n", encoding="utf-8")
    for name in ("../secret.txt", "/etc/passwd", ".hidden.txt", "userdict.dic", "nosuch.txt", "",
                 "."):
        with pytest.raises(NotInCorpus):
            archive.original(name)


def test_remove_takes_the_report_out_of_search_at_once(archive, corpus_dir):
    assert archive.service.search("黎贤花").total == 1
    assert archive.remove(SEED.name) == 31
    assert archive.service.search("黎贤花").total == 0
    assert [r.source for r in archive.reports().reports] == ["20230515.md"]
    assert not (corpus_dir / SEED.name).exists()
