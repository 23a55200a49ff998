"""The web app through Flask's test client: every route, status code and escaping case."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from web import create_app
from web.server import make_server
from web.security import is_loopback

from .conftest import make_app

SCRIPT = "<script>alert(1)</script>"
UNIQUE_WORD = "翡翠蜻蜓计划"
HTML_REPORT = (
    "<i>危险标题</i>\n\n"
    "正文<script>alert(1)</script>危险标签 <b onmouseover=alert(2)>粗体</b> 收尾。\n"
)


def body(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(client) -> str:
    page = client.get("/upload")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', body(page))
    assert match, "the upload form carries a CSRF token"
    return match.group(1)


def upload(client, files: list[tuple[bytes, str]], csrf: str | None = None, **fields):
    """POST the upload form as a browser would (with a fresh CSRF token unless given)."""
    data = {"files": [(io.BytesIO(content), name) for content, name in files], **fields}
    data["csrf_token"] = csrf_token(client) if csrf is None else csrf
    return client.post("/upload", data=data, content_type="multipart/form-data")


def outcome(html: str, name: str) -> tuple[str, str]:
    """What the upload page says about one file: its result and the detail."""
    row = re.search(rf'<td class="name">{re.escape(name)}</td>\s*<td class="status">([^<]*)</td>'
                    r'\s*<td class="detail">(.*?)</td>', html, re.S)
    assert row, f"no row for {name}"
    return row.group(1), row.group(2).strip()


def hit_links(html: str) -> list[str]:
    return re.findall(r'<h3><a href="([^"]+)"', html)


def in_layout(html: str) -> bool:
    """The page has the site's header, search box and stylesheet."""
    return '/static/style.css' in html and 'name="q"' in html and 'class="logo"' in html


# -- home ---------------------------------------------------------------------


def test_home_has_search_box_corpus_size_and_examples(client, service):
    summary = service.corpus_summary()
    response = client.get("/")
    html = body(response)
    assert response.status_code == 200
    assert re.search(r'<form[^>]+action="/search"', html)
    assert 'name="q"' in html and "搜索</button>" in html
    assert f"<strong>{summary.files}</strong> 份报告" in html
    assert f"<strong>{summary.passages}</strong> 个段落" in html
    assert f'href="/search?q={quote("劳模")}"' in html
    assert 'href="/upload"' in html


@pytest.mark.readonly
def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "default-src 'self'" in policy


@pytest.mark.readonly
def test_stylesheet_is_served_and_uses_no_external_resource(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    css = body(response)
    assert "@media" in css
    assert "http" not in css and "@import" not in css and "url(" not in css


# -- result page --------------------------------------------------------------


@pytest.mark.readonly
def test_search_shows_count_time_and_marked_passages(client, service):
    expected = service.search("劳模", group="article").to_json()  # the page's default
    assert expected["total"] > 0
    html = body(client.get("/search?q=劳模"))
    assert re.search(rf"找到 {expected['total']} 条结果（用时 \d+\.\d\d 秒）", html)
    assert html.count('class="hit"') == len(expected["hits"])
    assert "<mark>劳模</mark>" in html
    assert 'value="劳模"' in html, "the query stays in the box"
    for hit in expected["hits"]:
        assert hit["source"] in html


@pytest.mark.readonly
def test_each_hit_links_to_its_paragraph_in_the_article(client, service):
    first = service.search("劳模").to_json()["hits"][0]
    links = hit_links(body(client.get("/search?q=劳模")))
    assert links[0] == f"/doc/{first['article']}?q={quote('劳模')}#p{first['paragraph']}"
    article = body(client.get(links[0].split("#")[0]))
    paragraph = re.search(rf'id="p{first["paragraph"]}">(.*?)</(p|h\d|span)>', article)
    assert paragraph and "<mark>劳模</mark>" in paragraph.group(1)


@pytest.mark.readonly
def test_empty_query_goes_back_to_the_home_page(client):
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == "/"


@pytest.mark.readonly
def test_no_result_says_so(client):
    html = body(client.get("/search?q=量子纠缠计算机"))
    assert "找到 0 条结果" in html
    assert "没有找到与“<strong>量子纠缠计算机</strong>”相关的段落" in html
    assert 'class="hit"' not in html


@pytest.mark.readonly
def test_no_result_offers_the_close_term(client, service):
    suggestion = service.search("劳磨").to_json()["suggestion"]
    assert suggestion == "劳模"
    html = body(client.get("/search?q=劳磨"))
    assert "您要找的是不是" in html
    assert f'<a href="/search?q={quote("劳模")}">劳模</a>' in html


@pytest.mark.readonly
def test_pagination_goes_from_page_to_page(client, service):
    # Every passage: the test corpus has only four articles.
    total = service.search("职工").to_json()["total"]
    assert total > 10, "the test corpus has more than one page for 职工"
    first = body(client.get("/search?q=职工&group=passage"))
    assert first.count('class="hit"') == 10
    assert "上一页" not in first
    assert (f'href="/search?q={quote("职工")}&amp;page=2&amp;group=passage" rel="next">'
            "下一页 &gt;</a>") in first
    assert '<strong aria-current="page">1</strong>' in first

    second = body(client.get("/search?q=职工&group=passage&page=2"))
    assert second.count('class="hit"') == min(10, total - 10)
    assert '<strong aria-current="page">2</strong>' in second
    assert f'href="/search?q={quote("职工")}&amp;group=passage" rel="prev">&lt; 上一页</a>' in second
    assert not set(hit_links(first)) & set(hit_links(second))


@pytest.mark.readonly
def test_page_below_one_or_not_a_number_is_the_first_page(client):
    first = hit_links(body(client.get("/search?q=职工")))
    for page in ("-1", "0", "abc", "9" * 5000):
        response = client.get(f"/search?q=职工&page={page}")
        assert response.status_code == 200
        assert hit_links(body(response)) == first


@pytest.mark.readonly
def test_page_past_the_end_says_there_is_no_such_page(client):
    response = client.get(f"/search?q=职工&group=passage&page={10**9}")
    html = body(response)
    assert response.status_code == 200
    assert f"没有第 {10**9} 页" in html
    assert 'class="hit"' not in html
    assert f'href="/search?q={quote("职工")}&amp;page=2&amp;group=passage">到最后一页</a>' in html


@pytest.mark.readonly
def test_filter_by_source_file(client):
    html = body(client.get("/search?q=劳模&source=20230515.md"))
    assert 'class="hit"' in html
    assert "000_37542822596f49c6.txt</span>" not in html
    assert '<option value="20230515.md" selected>' in html
    # Page links keep the filter.
    page_two = body(client.get("/search?q=职工&group=passage&source=000_37542822596f49c6.txt"))
    assert "source=000_37542822596f49c6.txt" in "".join(re.findall(r'href="([^"]*page=2[^"]*)"', page_two))


@pytest.mark.readonly
def test_filter_by_date_range(client):
    dated = body(client.get("/search?q=劳模&from=2023-05-15&to=2023-05-15"))
    assert 'class="hit"' in dated
    assert "000_37542822596f49c6.txt</span>" not in dated, "the undated report is left out"
    later = body(client.get("/search?q=劳模&from=2023-05-16"))
    assert "找到 0 条结果" in later and "去掉筛选条件" in later


@pytest.mark.readonly
def test_sort_by_date(client):
    by_date = client.get("/search?q=劳模&sort=date")
    assert by_date.status_code == 200
    html = body(by_date)
    assert '<option value="date" selected>' in html
    dates = re.findall(r'<span class="source">[^<]*</span><span>(\d{4}-\d\d-\d\d)</span>', html)
    assert dates and dates == sorted(dates, reverse=True)


@pytest.mark.readonly
def test_bad_date_or_sort_is_a_400_page(client):
    for url in ("/search?q=劳模&from=2023-13-40", "/search?q=劳模&to=yesterday",
                "/search?q=劳模&sort=random"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert in_layout(body(response))
        assert "请求有误" in body(response)


def test_date_controls_only_when_the_corpus_has_dates(tmp_path):
    corpus = tmp_path / "undated"
    corpus.mkdir()
    shutil.copy(Path(__file__).parent.parent / "corpus" / "000_37542822596f49c6.txt", corpus)
    app = make_app(corpus, tmp_path / "undated-index")
    html = body(app.test_client().get("/search?q=劳模"))
    assert 'class="hit"' in html
    assert 'name="source"' in html
    assert 'name="from"' not in html and 'name="sort"' not in html


# -- escaping -----------------------------------------------------------------


@pytest.mark.readonly
def test_script_query_is_shown_as_text(client):
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in (f"/search?q={quote(SCRIPT)}", f"/search?q={quote(SCRIPT)}&page=2",
                f"/search?q=%E5%8A%B3%E6%A8%A1+{quote(SCRIPT)}"):
        html = body(client.get(url))
        assert SCRIPT not in html
        assert escaped in html
    article = service_article_url(client)
    html = body(client.get(f"{article}?q={quote(SCRIPT)}"))
    assert SCRIPT not in html and escaped in html


def service_article_url(client) -> str:
    return hit_links(body(client.get("/search?q=劳模")))[0].split("?")[0]


@pytest.mark.readonly
def test_bad_input_echoed_in_an_error_page_is_escaped(client):
    html = body(client.get(f"/search?q=x&from={quote(SCRIPT)}"))
    assert SCRIPT not in html and "&lt;script&gt;" in html


@pytest.fixture
def html_report(corpus_dir: Path, store) -> Path:
    """A report whose text is full of markup, indexed before the app serves."""
    path = corpus_dir / "markup.txt"
    path.write_text(HTML_REPORT, encoding="utf-8")
    store.sync()
    return path


def test_report_containing_html_is_shown_as_text(client, html_report):
    html = body(client.get("/search?q=危险标签"))
    assert 'class="hit"' in html
    assert "<script>alert(1)</script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>危险标签</mark>" in html
    assert "&lt;i&gt;危险标题&lt;/i&gt;" in html  # the title
    article = body(client.get(hit_links(html)[0].split("#")[0]))
    assert "<script>" not in article and "<b onmouseover" not in article and "<i>" not in article
    assert "&lt;b onmouseover=alert(2)&gt;粗体" in article


def test_api_returns_the_engine_escaped_highlight(client, html_report):
    hit = client.get("/api/search?q=危险标签").get_json()["hits"][0]
    assert "<script>" not in hit["highlight"]
    assert "<mark>危险标签</mark>" in hit["highlight"]
    assert "<script>alert(1)</script>" in hit["text"], "plain text stays plain text in JSON"


# -- article view -------------------------------------------------------------


@pytest.mark.readonly
def test_article_shows_every_paragraph_in_order_with_matches_marked(client, service):
    hit = service.search("劳模").to_json()["hits"][0]
    article = service.article(hit["article"], "劳模")
    response = client.get(f"/doc/{hit['article']}?q=劳模")
    html = body(response)
    assert response.status_code == 200
    ids = [int(n) for n in re.findall(r'id="p(\d+)"', html)]
    assert sorted(ids) == [p.paragraph for p in article.passages], "each paragraph once"
    lead = next(i for i, p in enumerate(article.passages) if p.kind not in ("title", "byline"))
    assert ids[lead:] == [p.paragraph for p in article.passages[lead:]], "the text in order"
    assert "<mark>劳模</mark>" in html
    assert f'href="/search?q={quote("劳模")}">← 返回“劳模”的搜索结果' in html
    assert article.source in html


@pytest.mark.readonly
def test_article_without_query_marks_nothing(client, service):
    hit = service.search("劳模").to_json()["hits"][0]
    html = body(client.get(f"/doc/{hit['article']}"))
    assert "<mark>" not in html and "返回" not in html
    assert re.search(rf'id="p{hit["paragraph"]}"', html)


@pytest.mark.readonly
def test_unknown_article_is_a_404_page(client):
    missing = client.get("/doc/nope")
    assert missing.status_code == 404
    assert "没有这篇文章" in body(missing) and in_layout(body(missing))
    for url in ("/doc/..%2F..%2Fsetup.cfg", "/doc/../../setup.cfg", "/doc/%00"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert in_layout(body(response)) and "[metadata]" not in body(response)


@pytest.mark.readonly
def test_unknown_path_and_static_traversal_are_404(client):
    for url in ("/no/such/page", "/static/../setup.cfg", "/static/%2e%2e/setup.cfg"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "[metadata]" not in body(response)
    assert in_layout(body(client.get("/no/such/page")))


# -- upload -------------------------------------------------------------------


def test_upload_form(client):
    html = body(client.get("/upload"))
    assert re.search(r'<input type="file" name="files" multiple', html)
    assert 'enctype="multipart/form-data"' in html
    accept = re.search(r'accept="([^"]*)"', html).group(1).split(",")
    assert ".txt" in accept and ".md" in accept
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', html)
    assert 'name="token"' not in html, "no token asked on a loopback server without one"


def test_upload_is_searchable_as_soon_as_the_page_says_added(client, corpus_dir):
    # Open a searcher in this thread first: the upload must not wait for its refresh.
    assert "找到 0 条结果" in body(client.get(f"/search?q={UNIQUE_WORD}"))
    response = upload(client, [(f"新报告提到{UNIQUE_WORD}，别处没有。\n".encode(), "新报告.txt")])
    html = body(response)
    assert response.status_code == 200
    assert outcome(html, "新报告.txt") == ("已添加", "2 个段落")  # the text, and 新报告 as its title
    assert (corpus_dir / "新报告.txt").is_file()
    found = body(client.get(f"/search?q={UNIQUE_WORD}"))
    assert "找到 1 条结果" in found and f"<mark>{UNIQUE_WORD}</mark>" in found


def test_upload_again_is_unchanged_then_updated(client):
    upload(client, [("第一版内容：蓝色鲸鱼。\n".encode(), "版本.txt")])
    again = body(upload(client, [("第一版内容：蓝色鲸鱼。\n".encode(), "版本.txt")]))
    assert outcome(again, "版本.txt")[0] == "未变化"
    changed = body(upload(client, [("第二版内容：红色海豚。\n".encode(), "版本.txt")]))
    assert outcome(changed, "版本.txt")[0] == "已更新"
    assert "找到 0 条结果" in body(client.get("/search?q=蓝色鲸鱼"))
    assert "找到 1 条结果" in body(client.get("/search?q=红色海豚"))


def test_upload_refuses_what_is_not_a_report_and_keeps_the_rest(client, corpus_dir):
    html = body(upload(client, [
        (b"MZ\x90\x00binary", "tool.exe"),
        (b"", "empty.txt"),
        ("好文件里的紫色长颈鹿。\n".encode(), "good.txt"),
    ]))
    status, reason = outcome(html, "tool.exe")
    assert status == "已拒绝" and reason.startswith("不支持的文件格式") and ".txt" in reason
    assert outcome(html, "empty.txt") == ("已拒绝", "文件是空的")
    assert outcome(html, "good.txt")[0] == "已添加"
    assert not (corpus_dir / "tool.exe").exists()
    assert "找到 1 条结果" in body(client.get("/search?q=紫色长颈鹿"))


def test_two_files_of_one_upload_with_the_same_name_are_both_kept(client, corpus_dir):
    # As `zhsearch add` does (the README says the two behave alike): before,
    # the web kept only the last and refused the first.
    html = body(upload(client, [("第一份同名报告提到鸿雁。\n".encode(), "同名.txt"),
                                ("第二份同名报告提到鲲鹏。\n".encode(), "同名.txt")]))
    assert outcome(html, "同名.txt")[0] == "已添加"
    status, detail = outcome(html, "同名 (2).txt")
    assert status == "已添加" and "与同一次上传中的“同名.txt”同名，已改名" in detail
    assert (corpus_dir / "同名.txt").read_text(encoding="utf-8") == "第一份同名报告提到鸿雁。\n"
    assert (corpus_dir / "同名 (2).txt").read_text(encoding="utf-8") == "第二份同名报告提到鲲鹏。\n"
    for word, source in (("鸿雁", "同名.txt"), ("鲲鹏", "同名 (2).txt")):
        hits = client.get("/api/search", query_string={"q": word}).get_json()["hits"]
        assert [h["source"] for h in hits] == [source]
    # Uploaded again: both found unchanged, no third copy.
    html = body(upload(client, [("第一份同名报告提到鸿雁。\n".encode(), "同名.txt"),
                                ("第二份同名报告提到鲲鹏。\n".encode(), "同名.txt")]))
    assert outcome(html, "同名.txt")[0] == outcome(html, "同名 (2).txt")[0] == "未变化"
    assert sorted(p.name for p in corpus_dir.glob("同名*")) == ["同名 (2).txt", "同名.txt"]


def test_a_name_in_nfd_is_one_report_with_its_nfc_name(client, corpus_dir, zhsearch):
    # Safari on a Mac sends "é" as e + U+0301 (NFD); typed on Linux or
    # Windows it is U+00E9 (NFC). Before, they were two reports that looked
    # the same.
    nfd, nfc = "Cafe\u0301报告.txt", "Caf\u00e9报告.txt"
    html = body(upload(client, [("咖啡馆的报告提到鸿雁。\n".encode(), nfd)]))
    assert outcome(html, nfc)[0] == "已添加"
    html = body(upload(client, [("咖啡馆的报告改写后提到鲲鹏。\n".encode(), nfc)]))
    assert outcome(html, nfc)[0] == "已更新"
    assert [p.name for p in corpus_dir.glob("Caf*")] == [nfc]
    reports = json.loads(zhsearch("reports", "--json").output)["reports"]
    assert [r["source"] for r in reports if r["source"].startswith("Caf")] == [nfc]
    # Removed by either spelling.
    result = zhsearch("remove", nfd)
    assert result.exit_code == 0, result.output
    assert not list(corpus_dir.glob("Caf*"))
    assert client.get("/api/search", query_string={"q": "鲲鹏"}).get_json()["total"] == 0


def test_add_of_an_nfd_and_an_nfc_file_keeps_both_under_nfc_names(corpus_dir, zhsearch, tmp_path):
    # Two files whose names differ only in their Unicode spelling, added
    # together: both kept, as two files of one name are (the later numbered).
    nfd, nfc = "Cafe\u0301报告.txt", "Caf\u00e9报告.txt"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / nfd).write_text("咖啡馆的报告提到鸿雁。\n", encoding="utf-8")
    (tmp_path / "b" / nfc).write_text("咖啡馆的另一份报告提到鲲鹏。\n", encoding="utf-8")
    result = zhsearch("add", str(tmp_path / "a" / nfd), str(tmp_path / "b" / nfc))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in corpus_dir.glob("Caf*")) == ["Caf\u00e9报告 (2).txt", nfc]


def test_a_report_kept_under_an_nfd_name_is_removed_by_its_nfc_name(corpus_dir, zhsearch):
    # A file copied into the corpus folder from a Mac keeps its NFD name;
    # the name typed to remove it is NFC.
    nfd, nfc = "Cafe\u0301报告.txt", "Caf\u00e9报告.txt"
    (corpus_dir / nfd).write_text("咖啡馆的报告提到鸿雁。\n", encoding="utf-8")
    assert zhsearch("index").exit_code == 0
    result = zhsearch("remove", nfc)
    assert result.exit_code == 0, result.output
    assert not (corpus_dir / nfd).exists()
    assert json.loads(zhsearch("search", "鸿雁", "--json").output)["total"] == 0


@pytest.mark.readonly
def test_a_query_cut_at_1000_characters_says_so_in_json_page_and_cli(client, zhsearch):
    # Before, the engine searched the first 1,000 characters and said nothing.
    long_query = "劳模" + "工" * 1_500
    data = client.get("/api/search", query_string={"q": long_query}).get_json()
    assert data["query_truncated"] is True
    # Only when cut: the JSON of an ordinary query is as before.
    assert "query_truncated" not in client.get("/api/search", query_string={"q": "劳模"}).get_json()
    # 33 distinct terms: the 33rd is not searched either.
    many = " ".join(f"词{i}" for i in range(33))
    assert client.get("/api/search", query_string={"q": many}).get_json()["query_truncated"] is True
    page = body(client.get("/search", query_string={"q": long_query}))
    assert "查询太长：只搜索了开头的 1,000 个字符" in page
    assert "查询太长" not in body(client.get("/search", query_string={"q": "劳模"}))
    result = zhsearch("search", long_query)
    assert result.exit_code == 0
    assert "only its beginning was searched" in result.stderr
    assert "only its beginning" not in result.stdout
    as_json = zhsearch("search", long_query, "--json")
    assert json.loads(as_json.stdout)["query_truncated"] is True


def test_a_url_past_the_servers_bound_is_refused_in_the_apis_json(store):
    # gunicorn answered URLs past 8 KB with its own HTML 414, /api/ included.
    # waitress reads up to 256 KB of request line and headers; past it, its
    # refusal is the API's JSON error under /api/ and a Chinese page elsewhere.
    from web.server import MAX_HEADER_BYTES

    server = make_server(store, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    q = quote("劳" * (MAX_HEADER_BYTES // 9 + 100))
    try:
        for path, content_type in ((f"/api/search?q={q}", "application/json"),
                                   (f"/search?q={q}", "text/html; charset=utf-8")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=30)
            assert refused.value.code == 431
            assert refused.value.headers["Content-Type"] == content_type
            data = refused.value.read().decode("utf-8")
            assert "网址或请求头太长" in data
            if content_type == "application/json":
                assert json.loads(data)["status"] == 431
        # A long query within the bound is answered by the app, and says it was cut.
        with urllib.request.urlopen(base + "/api/search?q=" + quote("劳模" * 600),
                                    timeout=30) as response:
            assert json.loads(response.read())["query_truncated"] is True
    finally:
        server.close()
        thread.join(timeout=5)


def test_upload_keeps_only_the_base_name(client, corpus_dir, tmp_path):
    html = body(upload(client, [
        ("越界一号的内容。\n".encode(), "../../escape.txt"),
        ("越界三号的内容。\n".encode(), "/etc/absolute.txt"),
    ]))
    for name in ("escape.txt", "absolute.txt"):
        assert (corpus_dir / name).is_file(), name
        assert outcome(html, name)[0] == "已添加"
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()
    assert not Path("/etc/absolute.txt").exists()
    assert "../" not in html


def test_a_windows_path_is_cut_to_its_base_name():
    # Tested on the function: how a multipart parser reads backslashes in a
    # file name differs between Werkzeug releases (3.1.9 unescapes them).
    from indexer.names import base_name
    assert base_name("..\\..\\windows.txt") == "windows.txt"
    assert base_name("C:\\Users\\me\\报告.txt") == "报告.txt"


def test_upload_refuses_names_the_disk_cannot_hold(client, corpus_dir):
    response = upload(client, [
        ("名字太长。\n".encode(), "长" * 100 + ".txt"),
        ("控制字符。\n".encode(), "bell\x07.txt"),
        ("正常文件的橙色企鹅。\n".encode(), "normal.txt"),
    ])
    html = body(response)
    assert response.status_code == 200
    assert "文件名太长" in html and "文件名含有控制字符" in html
    assert outcome(html, "normal.txt")[0] == "已添加"
    assert {p.name for p in corpus_dir.iterdir()} == {
        "000_37542822596f49c6.txt", "20230515.md", "normal.txt"}


def test_upload_file_name_with_markup_is_escaped(client):
    name = '<img src=x onerror=alert(1)>.txt'
    html = body(upload(client, [("标签名字的银色狐狸。\n".encode(), name)]))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    found = body(client.get("/search?q=银色狐狸"))
    assert "<img src=x" not in found and "&lt;img src=x onerror=alert(1)&gt;.txt" in found


def test_upload_without_csrf_token_is_refused(client, corpus_dir):
    for csrf in ("", "forged"):
        response = upload(client, [("没有令牌。\n".encode(), "nocsrf.txt")], csrf=csrf)
        assert response.status_code == 400
        assert "安全令牌" in body(response) and in_layout(body(response))
    assert not (corpus_dir / "nocsrf.txt").exists()


def test_upload_with_no_file_chosen(client):
    response = client.post("/upload", data={"csrf_token": csrf_token(client),
                                            "files": (io.BytesIO(b""), "")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "请先选择要上传的文件" in body(response)


def test_upload_over_the_default_limit_is_a_413_page(client, app, corpus_dir):
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    big = ("大" * (7 * 1024 * 1024 + 1)).encode()  # 21 MB of text
    response = upload(client, [(big, "big.txt")])
    assert response.status_code == 413
    assert "一次最多上传 20 MB" in body(response) and in_layout(body(response))
    assert not (corpus_dir / "big.txt").exists()


def test_upload_limit_is_configurable(corpus_dir, index_dir, store):
    app = make_app(corpus_dir, index_dir, MAX_CONTENT_LENGTH=1024 * 1024)
    client = app.test_client()
    response = upload(client, [(b"x" * (1024 * 1024 + 10), "over.txt")])
    assert response.status_code == 413 and "一次最多上传 1 MB" in body(response)
    assert upload(client, [("小文件。\n".encode(), "under.txt")]).status_code == 200


def test_upload_is_off_on_a_public_address_without_a_token(app, client, corpus_dir):
    token = csrf_token(client)  # taken while the server was loopback-only
    app.config["HOST"] = "0.0.0.0"
    page = client.get("/upload")
    assert page.status_code == 403
    assert "上传已关闭" in body(page) and "ZHSEARCH_UPLOAD_TOKEN" in body(page)
    assert 'href="/upload"' not in body(client.get("/")), "no link to a closed upload"
    response = upload(client, [("公开地址。\n".encode(), "public.txt")], csrf=token)
    assert response.status_code == 403
    assert not (corpus_dir / "public.txt").exists()


def test_upload_token_is_required_once_configured(app, client, corpus_dir):
    app.config.update(HOST="0.0.0.0", UPLOAD_TOKEN="s3cret-token")
    form = body(client.get("/upload"))
    assert 'type="password" name="token"' in form
    wrong = upload(client, [("口令错误。\n".encode(), "wrong.txt")], token="guess")
    assert wrong.status_code == 403 and "上传口令不正确" in body(wrong)
    assert not (corpus_dir / "wrong.txt").exists()
    missing = upload(client, [("没有口令。\n".encode(), "missing.txt")])
    assert missing.status_code == 403
    right = upload(client, [("口令正确的金色蝴蝶。\n".encode(), "right.txt")], token="s3cret-token")
    assert right.status_code == 200 and "已添加" in body(right)
    assert (corpus_dir / "right.txt").is_file()


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.168.1.20", False), ("example.org", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_search_answers_while_another_process_writes_and_upload_waits(
        corpus_dir, index_dir, store):
    app = make_app(corpus_dir, index_dir, LOCK_TIMEOUT=0.3)
    client = app.test_client()
    token = csrf_token(client)
    writer = store.open_index().writer()  # what `zhsearch index` holds while it works
    try:
        assert "<mark>劳模</mark>" in body(client.get("/search?q=劳模"))
        response = upload(client, [("锁住了。\n".encode(), "locked.txt")], csrf=token)
        assert response.status_code == 503
        assert "正在被另一个" in body(response) and in_layout(body(response))
    finally:
        writer.cancel()
    assert upload(client, [("锁放开了。\n".encode(), "unlocked.txt")]).status_code == 200


# -- API ----------------------------------------------------------------------


@pytest.mark.readonly
def test_api_search_is_the_cli_json(client, corpus_dir, index_dir):
    from indexer.cli import cli

    run = CliRunner().invoke(cli, ["--corpus", str(corpus_dir), "--index", str(index_dir),
                                   "search", "--json", "劳模"])
    assert run.exit_code == 0, run.output
    from_cli = json.loads(run.output)
    response = client.get("/api/search?q=劳模")
    assert response.status_code == 200 and response.mimetype == "application/json"
    from_api = response.get_json()
    from_cli.pop("took_ms"), from_api.pop("took_ms")
    assert from_api == from_cli
    assert list(from_api) == list(from_cli), "same keys in the same order"


@pytest.mark.readonly
def test_api_filters_and_pages(client):
    result = client.get("/api/search?q=职工&page=2&limit=5").get_json()
    assert result["page"] == 2 and result["limit"] == 5 and len(result["hits"]) == 5
    only = client.get("/api/search?q=劳模&source=20230515.md").get_json()
    assert only["hits"] and {h["source"] for h in only["hits"]} == {"20230515.md"}
    past = client.get(f"/api/search?q=职工&page={10**9}").get_json()
    assert past["hits"] == [] and past["total"] > 0


@pytest.mark.readonly
def test_api_limit_is_capped(app, client):
    app.config["API_MAX_LIMIT"] = 4
    for limit in (10**9, 0):
        result = client.get(f"/api/search?q=职工&limit={limit}").get_json()
        assert result["limit"] == 4 and len(result["hits"]) == 4 and result["total"] > 4


@pytest.mark.readonly
@pytest.mark.parametrize("query", [
    "q=", "q=%20", "page=1", "q=劳模&page=-1", "q=劳模&page=0", "q=劳模&page=abc",
    "q=劳模&limit=-1", "q=劳模&limit=x", "q=劳模&sort=best", "q=劳模&from=2023-02-30",
])
def test_api_bad_request_is_json_400(client, query):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]


@pytest.mark.readonly
def test_api_unknown_path_is_json_404(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.get_json()["status"] == 404


@pytest.mark.readonly
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "ok" and health["files"] == 2 and health["passages"] > 0


def test_broken_index_is_a_503_not_a_traceback(app, client, index_dir):
    shutil.rmtree(index_dir)  # before the first request opens it
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == 503
    page = client.get("/search?q=劳模")
    assert page.status_code == 503
    assert "运行 `zhsearch index` 建立索引" in body(page) and in_layout(body(page))


def test_every_error_code_has_its_chinese_text():
    from indexer.errors import CODES
    from indexer.messages import ERRORS, HELP, HINTS, TEXTS

    def chinese(text: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    assert set(ERRORS) == set(CODES) and set(HINTS) <= set(CODES)
    assert all(chinese(text.zh) for text in [*ERRORS.values(), *HELP.values()])
    texts = [*ERRORS.values(), *TEXTS.values(), *HELP.values()]
    assert all(text.en and text.zh and not chinese(text.en) for text in texts)


def test_every_file_status_has_its_chinese_label():
    # `removed` had none: the page fell back to the English word.
    from indexer.records import Status
    from web.upload import STATUS_LABELS

    assert set(STATUS_LABELS) == set(Status)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in STATUS_LABELS.values())


def test_a_refused_upload_says_why_in_chinese(client):
    page = upload(client, [(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧报告.docx"),
                           (b"not a pdf at all", "假的.pdf")])
    text = body(page)
    assert "请在 Word 中另存为 .docx" in text and "不是 PDF 文件" in text
    assert "save it as" not in text and "no %PDF header" not in text


def test_a_refusal_in_chinese_quotes_what_zhsearch_reads(client):
    # The catalogue's Chinese quotes the suffixes the readers take: a blank
    # there (可以上传：) told the user nothing.
    text = body(upload(client, [(b"some text", "notes.xyz")]))
    assert "不支持的文件格式，可以上传：.docx .htm .html" in text


# -- other errors -------------------------------------------------------------


def test_unexpected_error_is_a_500_page_without_traceback(app, client, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.extensions["zhsearch"].service, "search", explode)
    response = client.get("/search?q=劳模")
    html = body(response)
    assert response.status_code == 500
    assert "服务器出错了" in html and in_layout(html)
    assert "secret internal detail" not in html and "Traceback" not in html
    api = client.get("/api/search?q=劳模")
    assert api.status_code == 500 and "secret" not in body(api)


def test_wrong_method_is_a_405_page(client):
    response = client.post("/search?q=劳模")
    assert response.status_code == 405 and in_layout(body(response))


# -- configuration and the real server ------------------------------------------


def test_create_app_reads_the_environment_and_only_builds_the_app(
        tmp_path, corpus_dir, monkeypatch):
    index = tmp_path / "env-index"
    monkeypatch.setenv("ZHSEARCH_CORPUS", str(corpus_dir))
    monkeypatch.setenv("ZHSEARCH_INDEX", str(index))
    monkeypatch.setenv("ZHSEARCH_UPLOAD_TOKEN", "from-env")
    monkeypatch.setenv("ZHSEARCH_MAX_UPLOAD_MB", "5")
    app = create_app()
    assert app.config["CORPUS_DIR"] == str(corpus_dir)
    assert app.config["UPLOAD_TOKEN"] == "from-env"
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    assert not app.debug and app.config["SECRET_KEY"]
    # Building the index is `zhsearch serve`'s job: until then the page says how.
    page = app.test_client().get("/search?q=劳模")
    assert page.status_code == 503 and "zhsearch index" in body(page)
    assert not index.exists()


def test_make_server_serves_the_app_with_waitress(store):
    server = make_server(store, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}/search?q={quote('劳模')}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"] == "zhsearch"
            assert "<mark>劳模</mark>" in response.read().decode("utf-8")
    finally:
        server.close()
        thread.join(timeout=5)


def test_a_request_whose_headers_trickle_in_is_closed_after_the_header_timeout(store):
    # nginx's client_header_timeout: headers that take longer than the bound
    # to arrive close the connection, however steadily they trickle in
    # (waitress alone only closes connections that fall silent).
    from web.server import make_app, waitress_server

    app = make_app(store)
    app.config["HOST"] = "127.0.0.1"
    server = waitress_server(app, 2, header_seconds=1, cleanup_seconds=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            deadline = time.monotonic() + 30  # a guard against a hang, not a speed bound
            closed = False
            while not closed and time.monotonic() < deadline:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                    closed = sock.recv(1024) == b""
                except TimeoutError:
                    continue  # still open: the server waits for the rest
                except OSError:
                    closed = True
            assert closed, "a request still sending headers after 30 s was kept open"
        # A complete request is still answered.
        with urllib.request.urlopen(f"http://127.0.0.1:{server.effective_port}/healthz",
                                    timeout=10) as response:
            assert response.status == 200
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.mark.readonly
def test_why_matched_page_explains_a_hit_in_chinese(client):
    page = body(client.get("/search?q=托管"))
    link = re.search(r'<span class="why"><a href="(/why/[^"]+)"', page)
    assert link, "every hit links to 为什么匹配"
    why = client.get(link.group(1).replace("&amp;", "&"))
    html = body(why)
    assert why.status_code == 200 and in_layout(html)
    assert "为什么匹配" in html and "在更长的词里" in html and '<span class="word hit-word">爱心托管</span>' in html
    api = client.get(link.group(1).replace("&amp;", "&").replace("/why/", "/api/explain/")).get_json()
    assert [(t["term"], t["rule"], t["matched"]) for t in api["terms"]] == [("托管", "inside", ["爱心托管"])]
    assert client.get("/why/nothing?q=托管").status_code == 404


def test_every_library_error_carries_its_http_status():
    import indexer.errors as errors
    from indexer.segmenter import DictionaryError
    from indexer.synonyms import SynonymsError

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    status = {cls.__name__: cls.status for cls in subclasses(errors.ZhsearchError)}
    assert status["QueryError"] == status["UnsupportedFile"] == 400
    assert status["NotInCorpus"] == status["UnknownArticle"] == status["UnknownPassage"] == 404
    assert {status[c.__name__] for c in (errors.IndexLocked, errors.IndexCorrupt, errors.NoCorpus,
                                         errors.IndexUnwritable, errors.TooManyRemovals,
                                         DictionaryError, SynonymsError)} == {503}


@pytest.mark.readonly
def test_the_result_page_groups_by_article_and_its_facets_filter(client, service):
    grouped = service.search("职工", group="article")
    html = body(client.get("/search?q=职工"))
    assert f"找到 {grouped.total} 条结果" in html and "<strong>按文章</strong>" in html
    more = [h.more for h in grouped.hits if h.more]
    assert more and f"本文另有 {more[0]} 处匹配" in html
    html = body(client.get("/search?q=劳模"))  # in the dated news file and the undated report
    year = re.search(r'<a href="([^"]*from=2023-01-01[^"]*)">2023 年</a>', html)
    assert year, "a year facet is a link that filters"
    dated = body(client.get(year.group(1).replace("&amp;", "&")))
    assert "<strong>2023 年</strong>" in dated and "000_37542822596f49c6.txt</span>" not in dated
    every = body(client.get("/search?q=职工&group=passage"))
    assert "<strong>逐段显示</strong>" in every
    api = client.get("/api/search?q=职工&group=article").get_json()
    assert api["grouped"] == "article" and api["total"] == grouped.total
    assert client.get("/api/search?q=职工").get_json()["grouped"] is None


@pytest.mark.readonly
def test_search_in_titles_from_the_page_and_the_api(client):
    html = body(client.get("/search?q=工会&in=title"))
    assert "<strong>只搜标题</strong>" in html
    kinds = {h["kind"] for h in client.get("/api/search?q=工会&in=title&limit=100").get_json()["hits"]}
    assert kinds == {"title"}
    assert client.get("/api/search?q=工会&in=body").status_code == 400
