"""The search page in a real browser: Playwright driving Debian's Chromium.

The app runs under waitress (as `zhsearch serve` runs it) in a background
thread, on a free loopback port, over a temporary copy of the corpus.
"""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.search import SearchService
from indexer.store import Store
from tests.conftest import NEWS_MD, SEED
from web.server import make_server

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)",
                allow_module_level=True)

pytest.importorskip("playwright", reason="pip install playwright (the test extra)")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

# Without the networking flags Chromium keeps trying to reach Google's hosts,
# which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
MATCH_RED = "rgb(224, 49, 47)"  # --match in style.css


class LiveSite:
    def __init__(self, url: str, store: Store):
        self.url = url
        self.service = SearchService(store)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[LiveSite]:
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
    with serving(corpus, root / "index") as site:
        yield site


@contextmanager
def serving(corpus: Path, index: Path) -> Iterator[LiveSite]:
    """The corpus indexed and served on a free loopback port, for one module's tests."""
    store = Store(corpus, index)
    store.sync()
    server = make_server(store, host="127.0.0.1", port=0, threads=4,
                         config={"SECRET_KEY": "browser-test"})
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield LiveSite(f"http://127.0.0.1:{server.effective_port}", store)
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def search_from_box(page: Page, words: str) -> None:
    box = page.locator("input[name=q]")
    box.fill("")
    box.press_sequentially(words)
    box.press("Enter")
    page.wait_for_url("**/search?q=*")


def test_type_a_query_press_enter_and_see_marked_passages(page: Page, site: LiveSite):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(site.url + "/")
    search_from_box(page, "劳模")

    total = site.service.search("劳模", group="article").total  # one hit per article
    expect(page.locator(".stats")).to_contain_text(f"找到 {total} 条结果（用时")
    expect(page.locator("input[name=q]")).to_have_value("劳模")
    hits = page.locator(".hit")
    expect(hits).to_have_count(min(total, 10))
    marks = page.locator(".hit .snippet mark")
    expect(marks.first).to_be_visible()
    assert set(marks.all_inner_texts()) <= {"劳模", "劳动模范"}
    assert "劳模" in marks.all_inner_texts()
    # Marked characters stand out: red, not the text colour.
    assert marks.first.evaluate("m => getComputedStyle(m).color") == MATCH_RED
    assert errors == [], "no script, stylesheet or policy errors"


def test_go_to_page_two(page: Page, site: LiveSite):
    total = site.service.search("职工").total
    assert total > 10
    page.goto(site.url + "/")
    search_from_box(page, "职工")
    page.get_by_role("link", name="逐段显示").click()  # every passage: more than one page
    page.wait_for_url("**group=passage*")
    first_titles = page.locator(".hit h3 a").evaluate_all("links => links.map(a => a.href)")

    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**page=2*")
    expect(page.locator(".pager strong")).to_have_text("2")
    expect(page.locator(".hit")).to_have_count(min(10, total - 10))
    expect(page.get_by_role("link", name="上一页")).to_be_visible()
    second_titles = page.locator(".hit h3 a").evaluate_all("links => links.map(a => a.href)")
    assert not set(first_titles) & set(second_titles)
    expect(page.locator("input[name=q]")).to_have_value("职工")


def test_open_an_article_and_see_the_clicked_paragraph(page: Page, site: LiveSite):
    hits = site.service.search("劳模").hits
    # The deepest paragraph, so the page has to scroll to show it.
    index, hit = max(enumerate(hits), key=lambda item: item[1].paragraph)
    page.goto(site.url + "/")
    search_from_box(page, "劳模")
    page.locator(".hit h3 a").nth(index).click()
    page.wait_for_url(f"**/doc/{hit.article}?q=*#p{hit.paragraph}")

    clicked = page.locator(f"#p{hit.paragraph}")
    expect(clicked).to_be_in_viewport()
    expect(clicked.locator("mark").first).to_be_visible()
    assert page.evaluate("window.scrollY") > 0, "the page scrolled down to the paragraph"
    # The clicked paragraph is set off from the others.
    other = page.locator("article.doc > p[id]").first
    assert clicked.evaluate("e => getComputedStyle(e).backgroundColor") != \
        other.evaluate("e => getComputedStyle(e).backgroundColor")
    expect(page.locator("article.doc h1")).to_contain_text(hit.title.split("：")[-1][:6])


def test_upload_a_report_then_find_a_word_only_it_contains(page: Page, site: LiveSite, tmp_path):
    word = "琥珀色独角鲸"
    assert site.service.search(word).total == 0
    report = tmp_path / "新来的报告.txt"
    report.write_text(f"本报讯：工会举办{word}主题活动。\n\n职工反响热烈。\n", encoding="utf-8")

    page.goto(site.url + "/")
    page.get_by_role("link", name="上传报告").click()
    page.locator("input[type=file]").set_input_files(str(report))
    page.get_by_role("button", name="上传并建立索引").click()
    row = page.locator("table.outcomes tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".name")).to_have_text(report.name)
    expect(row.locator(".status")).to_have_text("已添加")

    search_from_box(page, word)
    expect(page.locator(".stats")).to_contain_text("找到 1 条结果")
    expect(page.locator(".hit .snippet mark")).to_have_text(word)
    expect(page.locator(".hit .meta .source")).to_have_text(report.name)


def test_result_page_fits_a_phone_screen(browser: Browser, site: LiveSite):
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(site.url + "/search?q=劳模")
        expect(page.locator(".hit").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
        box = page.locator("input[name=q]").bounding_box()
        assert box and box["width"] > 200, "the search box takes the width of the phone"
    finally:
        context.close()


def test_click_a_year_facet_then_see_every_passage(page: Page, site: LiveSite):
    page.goto(site.url + "/")
    search_from_box(page, "劳模")
    grouped = site.service.search("劳模", group="article")
    assert grouped.facets["year"].get("2023")
    page.locator(".facets").get_by_role("link", name="2023 年").click()
    page.wait_for_url("**from=2023-01-01*")
    dated = site.service.search("劳模", group="article", date_from="2023-01-01",
                                date_to="2023-12-31")
    expect(page.locator(".stats")).to_contain_text(f"找到 {dated.total} 条结果")
    expect(page.locator(".facets strong")).to_have_text("2023 年")
    for source in page.locator(".hit .source").all_inner_texts():
        assert source == "20230515.md"
    page.screenshot(path="/tmp/zhsearch-facets.png", full_page=True)
