"""The same story once, in a real browser (Playwright, Debian's Chromium): a
story three reports carry is one hit; its 另有 N 篇相同报道 opens to the
other reports' copies, each a link to its article.

A screenshot of the folded result page goes to /tmp/zhsearch-same-story.png,
to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED
# The browser and its page come from the search page's browser tests (and
# so does their skip when Chromium or Playwright is missing).
from tests.test_browser import LiveSite, browser, page, search_from_box, serving  # noqa: F401
from tests.test_samestory import REPORTS, STORY, write_reports


from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/zhsearch-same-story.png")
# A third copy, cut into lines as a PDF's text layer cuts it.
THIRD = "市总工会转发：\n\n" + "\n".join(STORY[i:i + 12] for i in range(0, len(STORY), 12)) + "\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[LiveSite]:
    root = tmp_path_factory.mktemp("browser-same")
    corpus = write_reports(root / "corpus", {**REPORTS, "20230520.txt": THIRD})
    shutil.copy(SEED, corpus / SEED.name)
    with serving(corpus, root / "index") as site:
        yield site


def test_expand_the_same_story_and_open_another_reports_copy(page: Page, site: LiveSite):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(site.url + "/")
    search_from_box(page, "表彰大会")
    expect(page.locator(".stats")).to_contain_text("找到 2 条结果")
    folded = page.locator(".hit", has=page.locator("details.same"))
    expect(folded).to_have_count(1)
    summary = folded.locator("details.same summary")
    expect(summary).to_have_text("另有 2 篇相同报道")
    copies = folded.locator("details.same li a")
    expect(copies.first).to_be_hidden()  # closed until clicked
    summary.click()
    expect(copies).to_have_count(2)
    expect(copies.first).to_be_visible()
    listed = folded.locator("details.same li").all_inner_texts()
    assert any("20230516.txt" in t and "2023-05-16" in t for t in listed), listed
    assert any("20230520.txt" in t for t in listed), listed
    page.screenshot(path=str(SHOT), full_page=True)

    folded.locator("details.same li", has_text="20230516.txt").locator("a").click()
    page.wait_for_url("**/doc/**")
    expect(page.locator("body")).to_contain_text("20230516.txt")
    expect(page.locator("mark").first).to_have_text("表彰大会")
    assert errors == [], "no script, stylesheet or policy errors"


def test_show_every_copy_and_fold_again(page: Page, site: LiveSite):
    page.goto(site.url + "/search?q=" + "表彰大会")
    page.locator(".views").get_by_role("link", name="分别显示").click()
    page.wait_for_url("**fold=none*")
    expect(page.locator(".stats")).to_contain_text("找到 4 条结果")
    expect(page.locator("details.same")).to_have_count(0)
    page.locator(".views").get_by_role("link", name="合并相同报道").click()
    expect(page.locator(".stats")).to_contain_text("找到 2 条结果")
    expect(page.locator("details.same")).to_have_count(1)
