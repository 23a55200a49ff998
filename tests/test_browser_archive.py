"""The 报告 pages, download, delete and export in a real browser (Playwright, Debian's Chromium).

Screenshots of the 报告 page, a report's page and a result page with the
relaxed notice go to /tmp/zhsearch-*.png, to be looked at.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import NEWS_MD, SEED
# The browser and its page come from the search page's browser tests (and
# so does their skip when Chromium or Playwright is missing).
from tests.test_browser import LiveSite, browser, page, search_from_box, serving  # noqa: F401
from tests.test_formats import newspaper_pdf


from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

DOOMED = "待删除的报告.txt"
DOOMED_WORD = "翠绿色信天翁"
QUESTION = "总工会发了多少慰问品？"
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[LiveSite]:
    root = tmp_path_factory.mktemp("browser-archive")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
    (corpus / "paper.pdf").write_bytes(newspaper_pdf())
    (corpus / "answer.txt").write_text("县总工会今年为职工发放慰问金五十万元。", encoding="utf-8")
    (corpus / DOOMED).write_text(f"2022年1月5日\n\n全县职工观察{DOOMED_WORD}。\n", encoding="utf-8")
    with serving(corpus, root / "index") as site:
        yield site


def names(page: Page) -> list[str]:
    return page.locator("table.reports td.name").all_inner_texts()


def test_open_the_reports_sort_and_filter_by_year(page: Page, site: LiveSite):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(site.url + "/")
    page.locator("nav.nav").get_by_role("link", name="报告", exact=True).click()
    page.wait_for_url("**/reports")
    expect(page.locator("h1")).to_have_text("报告")
    listed = names(page)
    assert set(listed) >= {SEED.name, "20230515.md", "paper.pdf", "answer.txt"}
    row = page.locator("table.reports tr", has_text=SEED.name)
    expect(row.locator(".unit")).to_have_text("肇庆市广宁县总工会、肇庆高新区总工会")
    expect(row.locator(".passages")).to_have_text("31")
    page.screenshot(path=str(SHOTS / "zhsearch-reports.png"), full_page=True)

    page.get_by_role("link", name="按段落数").click()
    counts = [int(n.replace(",", "")) for n in page.locator("td.passages").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and counts[0] == 31
    page.locator(".count-row").get_by_role("link", name="2023 年").click()
    assert names(page) == ["20230515.md"]
    expect(page.locator(".sorts strong")).to_have_text("按段落数")  # the order is kept
    assert errors == []


def test_reports_fit_a_phone_screen(browser, site: LiveSite):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        for path, shot in (("/reports", "zhsearch-reports-phone.png"),
                           (f"/reports/{SEED.name}", "zhsearch-report-phone.png")):
            phone.goto(site.url + path)
            phone.screenshot(path=str(SHOTS / shot), full_page=True)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        context.close()


def test_open_a_report_and_one_of_its_articles(page: Page, site: LiveSite):
    page.goto(site.url + "/reports")
    page.get_by_role("link", name=SEED.name).click()
    expect(page.locator("h1")).to_have_text(SEED.name)
    articles = page.locator("ol.articles > li > a")
    expect(articles).to_have_count(2)
    page.screenshot(path=str(SHOTS / "zhsearch-report.png"), full_page=True)
    articles.nth(1).click()
    page.wait_for_url("**/doc/*")
    expect(page.locator("article.doc h1")).to_contain_text("四个聚焦")
    page.locator("article.doc .meta a.source").click()
    expect(page.locator("h1")).to_have_text(SEED.name)


def test_download_the_original_file(page: Page, site: LiveSite, tmp_path):
    page.goto(site.url + "/reports/" + DOOMED)
    with page.expect_download() as info:
        page.get_by_role("link", name="下载原文件").click()
    download = info.value
    assert download.suggested_filename == DOOMED
    saved = tmp_path / "saved.txt"
    download.save_as(saved)
    assert saved.read_bytes() == (site.service.store.corpus_dir / DOOMED).read_bytes()


def test_pdf_page_number_in_a_report_and_a_hit(page: Page, site: LiveSite):
    page.goto(site.url + "/reports/paper.pdf")
    expect(page.locator("ol.articles .meta").first).to_contain_text("页")
    page.goto(site.url + "/")
    search_from_box(page, "龙舟赛")
    expect(page.locator(".hit .meta .page").first).to_have_text("第 1 页")
    page.locator(".hit h3 a").first.click()
    expect(page.locator("article.doc header .meta")).to_contain_text("页")
    page.screenshot(path=str(SHOTS / "zhsearch-pdf-article.png"), full_page=True)


def test_relaxed_results_carry_the_notice(page: Page, site: LiveSite):
    page.goto(site.url + "/")
    search_from_box(page, QUESTION)
    notice = page.locator(".notice.relaxed")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("以下结果仅包含部分关键词")
    page.screenshot(path=str(SHOTS / "zhsearch-relaxed.png"), full_page=True)


def test_export_every_hit_as_csv(page: Page, site: LiveSite, tmp_path):
    total = site.service.search("工会").total
    assert total > 10
    page.goto(site.url + "/")
    search_from_box(page, "工会")
    with page.expect_download() as info:
        page.locator(".export").get_by_role("link", name="CSV").click()
    download = info.value
    assert download.suggested_filename == "zhsearch-工会.csv"
    saved = tmp_path / "export.csv"
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == total
    assert {r["source"] for r in rows} >= {SEED.name}


def test_delete_a_report_then_search_finds_nothing_of_it(page: Page, site: LiveSite):
    page.goto(site.url + "/")
    search_from_box(page, DOOMED_WORD)
    expect(page.locator(".stats")).to_contain_text("找到 1 条结果")

    page.goto(site.url + "/reports")
    page.get_by_role("link", name=DOOMED).click()
    confirm = page.get_by_role("button", name="确认删除")
    expect(confirm).to_be_hidden()  # behind the disclosure: one click cannot delete
    page.locator("details.delete summary").click()
    expect(confirm).to_be_visible()
    page.screenshot(path=str(SHOTS / "zhsearch-delete.png"), full_page=True)
    confirm.click()
    page.wait_for_url("**/reports")
    expect(page.locator(".notice.done")).to_contain_text(f"已删除报告“{DOOMED}”")
    assert DOOMED not in names(page)

    search_from_box(page, DOOMED_WORD)
    expect(page.locator(".stats")).to_contain_text("找到 0 条结果")
    assert not (site.service.store.corpus_dir / DOOMED).exists()
