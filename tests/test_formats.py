"""Word, PDF and HTML reports: every fixture is built here, in the test."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from indexer.document import BODY, CAPTION, HEADING, TITLE
from indexer.readers import UnsupportedFile, is_supported, read_report

FONT = "STSong-Light"  # reportlab's built-in Chinese font: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# Long enough that only its size, not its length, says it is a headline.
HEADLINE = "担当作为立新功 谱写时代新篇章"
P1 = ("围绕学习宣传贯彻党的二十大精神，广宁县总工会举办了系列主题活动，职工听党话、"
      "跟党走的意识更加坚定，大力弘扬劳模精神、劳动精神、工匠精神，举办劳模进机关宣讲活动。")
# Its first line (15 characters after the indent) ends inside 代表大会.
P2 = ("肇庆市广宁县工会第十四次代表大会以来，全县各级工会在县委和上级工会的坚强领导下，"
      "以保持和增强政治性、先进性、群众性为主线，紧跟发展需要，紧贴职工需求，忠诚履职。")
P3 = "举办劳模进机关、进企业、进学校宣讲活动八十五场次，组织龙舟赛等文体活动，覆盖职工群众八千余人次，引起较好反响。"

SIZE = 10
COLUMN = 17  # characters a line, like the e-paper the bundled report came from


def passages(articles, kind=None):
    return [p for a in articles for p in a.passages if kind is None or p.kind == kind]


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(UnsupportedFile) as caught:
        read_report(data, name)
    reason = caught.value.reason
    assert reason and "\n" not in reason and "Traceback" not in reason
    return reason


# -- building PDFs -----------------------------------------------------------

def wrap(paragraph: str, width: int = COLUMN) -> list[tuple[bool, str]]:
    """Hard-wrap a paragraph as a newspaper does: ``(indented, line)``, the
    first line indented two characters, words cut wherever the line ends."""
    lines, first = [], True
    while paragraph:
        take = width - 2 if first else width
        lines.append((first, paragraph[:take]))
        paragraph, first = paragraph[take:], False
    return lines


def draw_column(c: canvas.Canvas, lines, x: float, y: float) -> None:
    c.setFont(FONT, SIZE)
    for indented, text in lines:
        c.drawString(x + (2 * SIZE if indented else 0), y, text)
        y -= SIZE * 1.5


def two_column_page(c: canvas.Canvas, left_column, right_column, headline: str | None) -> None:
    top = 780
    if headline:
        c.setFont(FONT, SIZE * 2)
        c.drawString(50, top, headline)
        top -= SIZE * 4
    draw_column(c, left_column, 50, top)
    draw_column(c, right_column, 50 + (COLUMN + 2) * SIZE, top)  # a two-character gutter


def pdf_bytes(draw, **options) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, **options)
    draw(c)
    c.save()
    return out.getvalue()


def newspaper_pdf() -> bytes:
    """Page 1: a headline over two columns, 代表大会 cut from the foot of the
    left column to the head of the right one. Page 2: one column and a folio."""
    left = wrap(P1) + wrap(P2)[:1]
    right = wrap(P2)[1:] + wrap(P3)
    assert left[-1][1].endswith("代表大") and right[0][1].startswith("会以来")

    def draw(c):
        two_column_page(c, left, right, HEADLINE)
        c.showPage()
        draw_column(c, wrap("第二版刊登的是另一篇文章，" * 4 + "内容到此结束。"), 50, 780)
        c.setFont(FONT, 9)
        c.drawString(290, 30, "— 2 —")
        c.showPage()
    return pdf_bytes(draw)


# -- building .docx files ----------------------------------------------------

def report_docx() -> bytes:
    document = docx.Document()
    document.add_heading("广宁县总工会工作报告", 0)
    document.add_paragraph("这是报告的前言。")
    document.add_heading("一、坚定政治方向", 1)
    document.add_paragraph("第一段没有句号")
    document.add_paragraph("第二段同样没有句号")
    document.add_heading("思想政治引领", 2)
    document.add_paragraph("职工书屋向全体会员开放。")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "项目", (0, 1): "场次",
                             (1, 0): "荔枝节劳动竞赛", (1, 1): "十二场"}.items():
        table.cell(row, col).text = text
    document.add_heading("二、维权服务", 1)
    paragraph = document.add_paragraph("软回车把一句话拆成")
    paragraph.add_run().add_break()
    paragraph.add_run("两行以后仍是一段。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- Word --------------------------------------------------------------------

def test_docx_headings_become_article_titles_and_section_headings():
    articles = read_report(report_docx(), "report.docx")
    assert [a.title for a in articles] == ["广宁县总工会工作报告", "一、坚定政治方向", "二、维权服务"]
    heading = next(p for p in passages(articles, HEADING))
    assert heading.text == "思想政治引领"
    under = next(p for p in passages(articles) if p.text == "职工书屋向全体会员开放。")
    assert under.section == "思想政治引领"
    # Titles are searchable passages too, not only metadata.
    assert [p.text for p in passages(articles, TITLE)] == [a.title for a in articles]


def test_docx_paragraphs_stay_as_the_author_made_them():
    body = [p.text for p in passages(read_report(report_docx(), "report.docx"), BODY)]
    # Two short paragraphs without full stops are not glued together…
    assert "第一段没有句号" in body and "第二段同样没有句号" in body
    # …and a line break inside a paragraph does not split it or a word.
    assert "软回车把一句话拆成两行以后仍是一段。" in body


def test_docx_table_text_is_included_row_by_row():
    body = [p.text for p in passages(read_report(report_docx(), "report.docx"), BODY)]
    assert "荔枝节劳动竞赛 | 十二场" in body


def test_docx_custom_style_based_on_a_heading_is_a_heading():
    document = docx.Document()
    style = document.styles.add_style("报告小标题", 1)  # WD_STYLE_TYPE.PARAGRAPH
    style.base_style = document.styles["Heading 1"]
    document.add_paragraph("自定义标题", style="报告小标题")
    document.add_paragraph("正文内容。")
    out = io.BytesIO()
    document.save(out)
    assert [a.title for a in read_report(out.getvalue(), "custom.docx")] == ["自定义标题"]


def test_damaged_docx_files_are_refused_with_a_reason():
    good = report_docx()
    assert "damaged" in refusal(good[: len(good) // 2], "cut.docx")
    assert "damaged" in refusal(b"\x00\x01 not a zip at all " * 20, "garbage.docx")
    assert ".doc" in refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.docx")
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "不是 Word 文件")
    assert "not a Word document" in refusal(other_zip.getvalue(), "zip.docx")


# -- PDF ---------------------------------------------------------------------

def test_pdf_columns_are_read_in_order_and_cut_words_are_whole():
    articles = read_report(newspaper_pdf(), "paper.pdf")
    body = [p.text for p in passages(articles, BODY)]
    # Whole paragraphs in reading order: left column, then right column.
    assert body[:3] == [P1, P2, P3]
    holding = [text for text in body if "代表大会" in text]
    assert holding == [P2]


def test_pdf_headline_set_large_is_the_article_title():
    articles = read_report(newspaper_pdf(), "paper.pdf")
    assert articles[0].title == HEADLINE
    assert articles[0].passages[0].kind == TITLE


def test_pdf_passages_keep_their_page_number_and_drop_the_folio():
    found = passages(read_report(newspaper_pdf(), "paper.pdf"))
    assert {p.page for p in found if p.text in (P1, P2, P3)} == {1}
    second = [p for p in found if p.text.startswith("第二版")]
    assert len(second) == 1 and second[0].page == 2
    assert not any("2" in p.text and len(p.text) < 8 for p in found)


def test_pdf_paragraph_cut_by_the_page_break_is_one_passage_on_its_first_page():
    lines = wrap(P2)

    def draw(c):
        draw_column(c, wrap(P1) + lines[:1], 50, 780)
        c.showPage()
        draw_column(c, lines[1:], 50, 780)
        c.showPage()
    found = passages(read_report(pdf_bytes(draw), "pages.pdf"), BODY)
    assert [(p.text, p.page) for p in found] == [(P1, 1), (P2, 1)]


def test_scanned_pdf_without_text_is_refused_no_ocr():
    scan = ImageReader(Image.new("L", (200, 280), 255))
    data = pdf_bytes(lambda c: (c.drawImage(scan, 50, 300, 400, 560), c.showPage()))
    assert refusal(data, "scan.pdf") == "scanned PDF with no text layer; zhsearch does no OCR"


def test_password_protected_pdf_is_refused():
    data = pdf_bytes(lambda c: (c.setFont(FONT, SIZE), c.drawString(50, 700, P1), c.showPage()),
                     encrypt="secret")
    assert "password" in refusal(data, "locked.pdf")


def test_damaged_pdfs_are_refused_with_a_reason():
    assert "not a PDF" in refusal(b"this is not a PDF at all " * 40, "garbage.pdf")
    good = newspaper_pdf()
    assert "damaged PDF" in refusal(good[: len(good) // 2], "cut.pdf")


# -- HTML --------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>工会新闻_示例网</title>
<style>.byline {{ color: gray }}</style><script>var 广告 = "脚本文字";</script></head>
<body>
<header><div class="logo">示例网首页</div></header>
<nav><a href="/">导航新闻中心</a></nav>
<main><article>
  <h1>劳模精神代代传</h1>
  <p>　　肇庆市广宁县工会第十四次代表
  大会以来，工作取得新成效，陈喆获评劳动模范。</p>
  <h2>坚定政治方向</h2>
  <p>围绕学习宣传<b>贯彻</b>党的二十大精神。</p>
  <figure><img src="a.jpg"><figcaption>劳模合影 单位供图</figcaption></figure>
  <footer>责任编辑：编辑甲</footer>
</article>
<aside>相关阅读侧栏</aside></main>
<footer>版权所有示例网</footer>
</body></html>
"""


def test_html_article_text_only_with_title_and_headings():
    articles = read_report(PAGE.format(charset="utf-8").encode("utf-8"), "page.html")
    everything = " ".join(p.text for p in passages(articles))
    for junk in ["脚本文字", "color", "示例网首页", "导航新闻中心", "相关阅读侧栏", "版权所有", "责任编辑"]:
        assert junk not in everything
    assert [a.title for a in articles] == ["劳模精神代代传"]
    heading = passages(articles, HEADING)[0]
    assert heading.text == "坚定政治方向"
    body = passages(articles, BODY)
    # The line break in the page source falls inside 代表大会.
    assert body[0].text == "肇庆市广宁县工会第十四次代表大会以来，工作取得新成效，陈喆获评劳动模范。"
    assert body[1].text == "围绕学习宣传贯彻党的二十大精神。" and body[1].section == "坚定政治方向"
    assert passages(articles, CAPTION)[0].text == "劳模合影 单位供图"


@pytest.mark.parametrize("charset", ["gbk", "gb2312"])
def test_html_declared_chinese_charset_is_honoured(charset):
    # 喆 is in GBK but not GB2312: pages declaring gb2312 use it anyway.
    data = PAGE.format(charset=charset).encode("gbk")
    body = passages(read_report(data, "page.htm"), BODY)
    assert "陈喆获评劳动模范" in body[0].text


def test_html_short_gbk_page_decodes_by_its_declaration_not_a_guess():
    # Guessed from the bytes alone, this short text comes out as Big5 nonsense.
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
            "</head><body><p>劳模精神代代传</p></body></html>")
    body = passages(read_report(page.encode("gbk"), "short.html"), BODY)
    assert [p.text for p in body] == ["劳模精神代代传"]


def test_html_without_headings_is_named_by_its_title():
    data = "<html><head><title>通知公告</title></head><body><p>明天上午开会。</p></body></html>"
    articles = read_report(data.encode(), "notice.html")
    assert articles[0].title == "通知公告"
    assert [p.text for p in passages(articles, BODY)] == ["明天上午开会。"]


def test_html_cut_off_mid_page_still_yields_its_text():
    data = PAGE.format(charset="utf-8").encode("utf-8")
    cut = data[: data.index(b"<h2>") + 6]
    body = passages(read_report(cut, "cut.html"), BODY)
    assert "代表大会" in body[0].text


def test_damaged_html_is_refused_with_a_reason():
    png_named_html = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    assert "binary" in refusal(png_named_html, "image.html")
    assert refusal(b"<html><body><script>only();</script></body></html>", "empty.html")


# -- one ingestion path --------------------------------------------------------

def test_all_formats_are_supported_suffixes():
    for name in ["a.docx", "b.PDF", "c.html", "d.htm"]:
        assert is_supported(name)


def test_docx_and_pdf_are_searchable_end_to_end(corpus_dir: Path, index_dir: Path, tmp_path: Path):
    from indexer.search import SearchService
    from indexer.store import Store

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "report.docx").write_bytes(report_docx())
    (incoming / "paper.pdf").write_bytes(newspaper_pdf())
    (incoming / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage that ends here")
    store = Store(corpus_dir, index_dir)
    report = store.add_files(sorted(incoming.iterdir()))
    status = {o.name: o.status for o in report.outcomes}
    assert status == {"report.docx": "added", "paper.pdf": "added", "broken.pdf": "refused"}
    assert report.refused[0].reason

    service = SearchService(store)
    hits = service.search("荔枝节").hits
    assert [h.source for h in hits] == ["report.docx"]
    hits = [h for h in service.search("代表大会", limit=0).hits if h.source == "paper.pdf"]
    assert [(h.text, h.page) for h in hits] == [(P2, 1)]
    hits = service.search("龙舟赛").hits
    assert [(h.source, h.page) for h in hits] == [("paper.pdf", 1)]
