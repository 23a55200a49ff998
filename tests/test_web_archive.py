"""The 报告 pages, download, delete and export through Flask's test client;
the relaxed notice and PDF page numbers on the result page and in the article."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote, unquote

import pytest

from indexer.search import SearchService
from indexer.store import Store

from .conftest import SEED, make_app
from .test_formats import newspaper_pdf
from .test_web import body, in_layout

GUANGNING, GAOXIN = "肇庆市广宁县总工会", "肇庆高新区总工会"


def report_rows(html: str) -> list[tuple[str, str, str, str]]:
    """(source, date, unit, passages) of each row of the report table."""
    return re.findall(
        r'<td class="name"><a href="[^"]+">([^<]+)</a></td>\s*<td class="date">([^<]*)</td>\s*'
        r'<td class="unit">([^<]*)</td>\s*<td class="num">[^<]*</td>\s*'
        r'<td class="num passages">([^<]*)</td>', html)


def delete_form_token(client, source: str) -> str:
    html = body(client.get(f"/reports/{quote(source)}"))
    match = re.search(r'<form method="post" action="/reports/delete">\s*'
                      r'<input type="hidden" name="csrf_token" value="([^"]+)">', html)
    assert match, "the report page carries the delete form with its CSRF token"
    return match.group(1)


def delete(client, source: str, csrf: str | None = None, **fields):
    data = {"source": source, **fields}
    data["csrf_token"] = delete_form_token(client, source) if csrf is None else csrf
    return client.post("/reports/delete", data=data)


# -- the list -------------------------------------------------------------------


def test_every_page_links_to_the_reports(client):
    for url in ("/", "/search?q=劳模", "/upload"):
        assert '<a href="/reports">报告</a>' in body(client.get(url)), url
    assert '<a href="/reports" aria-current="page">报告</a>' in body(client.get("/reports"))


@pytest.mark.readonly
def test_reports_page_lists_every_report_with_date_unit_and_passages(client):
    response = client.get("/reports")
    assert response.status_code == 200
    html = body(response)
    assert in_layout(html) and "<h1>报告</h1>" in html
    assert "共 2 份报告、4 篇文章、36 个段落。" in html
    assert report_rows(html) == [("20230515.md", "2023-05-15", "—", "5"),
                                 (SEED.name, "—", f"{GUANGNING}、{GAOXIN}", "31")]
    assert f'href="/reports/{SEED.name}"' in html
    assert "style=" not in html and "<script" not in html


@pytest.mark.readonly
def test_reports_sort_by_links(client):
    html = body(client.get("/reports"))
    assert '<strong aria-current="true">按日期</strong>' in html
    assert '<a href="/reports?sort=name">按名称</a>' in html
    assert '<a href="/reports?sort=passages">按段落数</a>' in html
    by_passages = report_rows(body(client.get("/reports?sort=passages")))
    assert [r[0] for r in by_passages] == [SEED.name, "20230515.md"]
    assert [r[0] for r in report_rows(body(client.get("/reports?sort=name")))] == \
        [SEED.name, "20230515.md"]
    # An unknown order is the default one, not an error.
    assert report_rows(body(client.get("/reports?sort=%3Cb%3E"))) == \
        report_rows(body(client.get("/reports")))


@pytest.mark.readonly
def test_reports_counts_per_year_and_unit_filter_when_clicked(client):
    html = body(client.get("/reports"))
    assert '<a href="/reports?year=2023">2023 年</a><span class="n">1</span>' in html
    assert '<a href="/reports?year=undated">无日期</a><span class="n">1</span>' in html
    assert f'<a href="/reports?unit={quote(GAOXIN)}">{GAOXIN}</a><span class="n">1</span>' in html
    assert [r[0] for r in report_rows(body(client.get("/reports?year=2023")))] == ["20230515.md"]
    assert [r[0] for r in report_rows(body(client.get("/reports?year=undated")))] == [SEED.name]
    assert [r[0] for r in report_rows(body(client.get(f"/reports?unit={quote(GAOXIN)}")))] == \
        [SEED.name]
    html = body(client.get("/reports?year=1999"))
    assert report_rows(html) == [] and "没有符合条件的报告。" in html
    # Sorting keeps the filter.
    html = body(client.get("/reports?year=2023"))
    assert '<a href="/reports?sort=name&amp;year=2023">按名称</a>' in html


def test_reports_page_of_an_empty_corpus(tmp_path):
    corpus = tmp_path / "empty"
    corpus.mkdir()
    html = body(make_app(corpus, tmp_path / "ix").test_client().get("/reports"))
    assert "还没有收录任何报告。" in html and '<a href="/upload">上传第一份报告</a>' in html


def test_report_names_with_markup_are_escaped(client, corpus_dir):
    name = "<img src=x onerror=alert(1)>报告.txt"
    client.application.extensions["zhsearch"].add_uploads([(name, "职工书屋。".encode())])
    html = body(client.get("/reports"))
    assert "&lt;img src=x onerror=alert(1)&gt;报告.txt" in html and "<img" not in html
    html = body(client.get(f"/reports/{quote(name)}"))
    assert "&lt;img src=x onerror=alert(1)&gt;报告.txt" in html and "<img" not in html


# -- one report ---------------------------------------------------------------


@pytest.mark.readonly
def test_report_page_lists_its_articles_with_links(client, service):
    response = client.get(f"/reports/{SEED.name}")
    assert response.status_code == 200
    html = body(response)
    assert f"<h1>{SEED.name}</h1>" in html and f"{GUANGNING}、{GAOXIN}" in html
    articles = re.findall(r'<li>\s*<a href="/doc/([^"]+)">([^<]+)</a>\s*'
                          r'<span class="meta"><span>(\d+) 个段落</span>', html)
    assert articles == [
        ("6ebb69ef47d6-1", f"{GUANGNING}：担当作为立新功 谱写时代新篇章", "13"),
        ("6ebb69ef47d6-2", f"{GAOXIN}：四个聚焦 交出一份服务职工高分答卷", "18"),
    ]
    for article_id, title, _ in articles:
        assert client.get(f"/doc/{article_id}").status_code == 200
    assert f'href="/file/{SEED.name}" download>下载原文件</a>' in html
    # Search within this report: the search form carries the source.
    assert f'<input type="hidden" name="source" value="{SEED.name}">' in html


@pytest.mark.readonly
def test_unknown_report_is_a_404_page(client):
    response = client.get("/reports/nosuch.txt")
    assert response.status_code == 404
    assert "语料库中没有这个报告：nosuch.txt" in body(response)


@pytest.mark.readonly
def test_article_links_back_to_its_report(client, service):
    hit = service.search("黎贤花").hits[0]
    html = body(client.get(f"/doc/{hit.article}"))
    assert f'<a class="source" href="/reports/{SEED.name}">{SEED.name}</a>' in html


# -- download -----------------------------------------------------------------


def test_download_is_the_original_file_with_its_utf8_name(client, corpus_dir):
    response = client.get(f"/file/{SEED.name}")
    assert response.status_code == 200
    assert response.data == SEED.read_bytes()
    assert response.headers["Content-Disposition"] == f"attachment; filename={SEED.name}"
    name = "广宁 报告.txt"
    client.application.extensions["zhsearch"].add_uploads([(name, "职工书屋开放。".encode())])
    response = client.get(f"/file/{quote(name)}")
    assert response.status_code == 200 and response.data == "职工书屋开放。".encode()
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name


def test_download_never_leaves_the_corpus(client, corpus_dir, tmp_path):
    (tmp_path / "secret.txt").write_text("密码", encoding="utf-8")
    (corpus_dir / ".hidden.txt").write_text("隐藏", encoding="utf-8")
    (corpus_dir / "userdict.dic").write_text("劳模 10\n", encoding="utf-8")
    (corpus_dir / "not-indexed.txt").write_text("还没建索引", encoding="utf-8")
    for url in ("/file/../secret.txt", "/file/%2e%2e/secret.txt", "/file/..%2fsecret.txt",
                "/file//etc/passwd", "/file/%2fetc/passwd", "/file/.hidden.txt", "/file/userdict.dic",
                "/file/not-indexed.txt", "/file/nosuch.txt"):
        response = client.get(url, follow_redirects=True)  # // is merged into / first
        assert response.status_code == 404, url
        assert "密码" not in body(response) and "隐藏" not in body(response)


# -- delete -------------------------------------------------------------------


def test_delete_then_search_finds_nothing_of_it(client, corpus_dir):
    assert "黎贤花" in body(client.get("/search?q=黎贤花"))
    response = delete(client, SEED.name)
    assert response.status_code == 303 and response.headers["Location"] == "/reports"
    html = body(client.get("/reports"))
    assert f"已删除报告“{SEED.name}”（31 个段落），搜索中不会再出现它。" in html
    assert [r[0] for r in report_rows(html)] == ["20230515.md"]
    assert "找到 0 条结果" in body(client.get("/search?q=黎贤花"))
    assert not (corpus_dir / SEED.name).exists()
    assert client.get(f"/reports/{SEED.name}").status_code == 404
    assert client.get(f"/file/{SEED.name}").status_code == 404


def test_delete_without_csrf_token_is_refused(client, corpus_dir):
    response = client.post("/reports/delete", data={"source": SEED.name})
    assert response.status_code == 400 and "表单已失效" in body(response)
    assert (corpus_dir / SEED.name).exists()


def test_delete_of_an_unknown_or_outside_name_is_a_404(client, corpus_dir, tmp_path):
    (tmp_path / "secret.txt").write_text("密码", encoding="utf-8")
    token = delete_form_token(client, SEED.name)
    for name in ("nosuch.txt", "../secret.txt", ""):
        assert delete(client, name, csrf=token).status_code == 404, name
    assert (tmp_path / "secret.txt").exists()


def test_delete_is_closed_on_a_public_address_without_a_token(app, client, corpus_dir):
    token = delete_form_token(client, SEED.name)
    app.config["HOST"] = "0.0.0.0"
    html = body(client.get(f"/reports/{SEED.name}"))
    assert "删除这份报告" not in html and 'action="/reports/delete"' not in html
    response = delete(client, SEED.name, csrf=token)
    assert response.status_code == 403
    assert (corpus_dir / SEED.name).exists()


def test_delete_asks_for_the_token_once_configured(app, client, corpus_dir):
    app.config.update(HOST="0.0.0.0", UPLOAD_TOKEN="s3cret-token")
    assert 'type="password" name="token"' in body(client.get(f"/reports/{SEED.name}"))
    response = delete(client, SEED.name, token="guess")
    assert response.status_code == 403 and "口令不正确" in body(response)
    assert (corpus_dir / SEED.name).exists()
    assert delete(client, SEED.name, token="s3cret-token").status_code == 303
    assert not (corpus_dir / SEED.name).exists()


def test_delete_by_get_is_not_possible(client, corpus_dir):
    assert client.get("/reports/delete").status_code == 404
    assert (corpus_dir / SEED.name).exists()


# -- export -------------------------------------------------------------------


@pytest.mark.readonly
def test_result_page_links_to_the_export_with_its_filters(client):
    html = body(client.get("/search?q=劳模&source=20230515.md&sort=date"))
    links = re.findall(r'<a href="(/export\?[^"]+)" download>(CSV|JSONL)</a>', html)
    assert [label for _, label in links] == ["CSV", "JSONL"]
    assert links[0][0] == f"/export?q={quote('劳模')}&amp;format=csv&amp;source=20230515.md&amp;sort=date"
    assert "/export" not in body(client.get("/search?q=不存在的词语"))


@pytest.mark.readonly
def test_export_csv_is_every_hit_with_a_bom(client, service):
    total = service.search("工会").total
    response = client.get("/export?q=工会")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "zhsearch-工会.csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == ["source", "title", "section", "date", "paragraph", "page", "text"]
    assert len(table) - 1 == total > 10  # every hit, not a page of ten


@pytest.mark.readonly
def test_export_jsonl_applies_the_filters(client, service):
    response = client.get("/export?q=劳模&format=jsonl&source=20230515.md")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    rows = [json.loads(line) for line in response.data.decode("utf-8").splitlines()]
    expected = service.search("劳模", limit=0, source="20230515.md").hits
    assert [(r["source"], r["paragraph"]) for r in rows] == [(h.source, h.paragraph) for h in expected]


@pytest.mark.readonly
@pytest.mark.parametrize("query, message", [
    ("", "参数 q（查询词）不能为空。"),
    ("q=劳模&format=xlsx", "导出格式只能是 csv 或 jsonl。"),
    ("q=劳模&from=2023-13-01", "日期“2023-13-01”无效"),
    ("q=劳模&source=nosuch.txt", "语料库中没有名为“nosuch.txt”的报告。"),
])
def test_export_bad_request_is_a_400_page(client, query, message):
    response = client.get(f"/export?{query}")
    assert response.status_code == 400
    assert message in body(response)


@pytest.mark.readonly
def test_export_above_the_bound_is_refused_with_a_clear_message(app, client, service):
    total = service.search("工会").total
    app.config["EXPORT_MAX_HITS"] = total - 1
    response = client.get("/export?q=工会")
    assert response.status_code == 400
    assert (f"这次搜索共有 {total} 条结果，超过一次导出的上限 {total - 1} 条。"
            "请加上文件或日期筛选，缩小范围后再导出。") in body(response)
    html = body(client.get("/search?q=工会"))
    assert "/export?" not in html and f"结果超过 {total - 1} 条，请筛选后再导出" in html
    app.config["EXPORT_MAX_HITS"] = total
    assert client.get("/export?q=工会").status_code == 200


# -- the result page: relaxed notice, PDF pages -----------------------------------


def test_relaxed_results_carry_the_notice(corpus_dir, index_dir):
    (corpus_dir / "answer.txt").write_text("县总工会今年为职工发放慰问金五十万元。", encoding="utf-8")
    client = make_app(corpus_dir, index_dir).test_client()
    question = "总工会发了多少慰问品？"
    assert SearchService(Store(corpus_dir, index_dir)).search(question).relaxed
    html = body(client.get(f"/search?q={question}"))
    assert "以下结果仅包含部分关键词" in html
    assert "以下结果仅包含部分关键词" not in body(client.get("/search?q=劳模"))


@pytest.fixture
def pdf_client(corpus_dir, index_dir):
    (corpus_dir / "paper.pdf").write_bytes(newspaper_pdf())
    return make_app(corpus_dir, index_dir).test_client()


def test_pdf_page_on_the_hit_and_in_the_article(pdf_client):
    html = body(pdf_client.get("/search?q=龙舟赛"))
    assert '<span class="page">第 1 页</span>' in html
    article = re.search(r'<h3><a href="(/doc/[^"?]+)', html).group(1)
    doc = body(pdf_client.get(article))
    assert re.search(r"<span>第 1(–2)? 页</span>", doc)
    # No page on hits from other formats.
    assert '<span class="page">' not in body(pdf_client.get("/search?q=黎贤花"))


def test_report_page_shows_the_pages_of_each_article(pdf_client):
    html = body(pdf_client.get("/reports/paper.pdf"))
    assert re.search(r"<span>第 \d+(–\d+)? 页</span>", html)


def test_reports_list_is_paged_and_the_pages_keep_order_and_filter(client, monkeypatch):
    monkeypatch.setattr("web.reports.PER_PAGE", 1)
    first = body(client.get("/reports?sort=passages"))
    assert [r[0] for r in report_rows(first)] == [SEED.name]
    assert '<a href="/reports?sort=passages&amp;page=2" rel="next">' not in first  # no rel: plain links
    assert '<a href="/reports?sort=passages&amp;page=2">下一页 &gt;</a>' in first
    second = body(client.get("/reports?sort=passages&page=2"))
    assert [r[0] for r in report_rows(second)] == ["20230515.md"]
    assert '<a href="/reports?sort=passages&amp;page=1">&lt; 上一页</a>' in second
    # A page past the end or not a number shows the first or no rows, never an error.
    assert client.get("/reports?page=abc").status_code == 200
    past = body(client.get("/reports?page=99"))
    assert report_rows(past) == [] and "没有第 99 页：共 2 页。" in past


def test_a_report_in_a_subfolder_has_its_page_download_and_delete(corpus_dir, index_dir):
    (corpus_dir / "2024" / "三月").mkdir(parents=True)
    nested = corpus_dir / "2024" / "三月" / "简报.txt"
    nested.write_text("县总工会开展春风行动。\n", encoding="utf-8")
    client = make_app(corpus_dir, index_dir).test_client()
    source = "2024/三月/简报.txt"
    assert f'href="/reports/2024/{quote("三月")}/{quote("简报.txt")}"' in body(client.get("/reports"))
    page = client.get(f"/reports/{quote(source)}")
    assert page.status_code == 200 and f"<h1>{source}</h1>" in body(page)
    download = client.get(f"/file/{quote(source)}")
    assert download.data == nested.read_bytes()
    assert unquote(download.headers["Content-Disposition"].split("filename*=UTF-8''")[1]) == "简报.txt"
    assert delete(client, source).status_code == 303
    assert not nested.exists() and "找到 0 条结果" in body(client.get("/search?q=春风行动"))
