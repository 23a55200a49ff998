"""Reading report files: reflow, articles, metadata, encodings, refusals."""

import pytest

from indexer.document import BODY, BYLINE, CAPTION, HEADING, date_from_name, date_from_text
from indexer.readers import UnsupportedFile, read_report
from indexer.readers.plaintext import reflow_paragraphs

from .conftest import NEWS_MD, SEED


@pytest.fixture
def seed_articles():
    return read_report(SEED.read_bytes(), SEED.name)


def test_seed_splits_into_its_two_articles(seed_articles):
    assert [a.title for a in seed_articles] == [
        "肇庆市广宁县总工会：担当作为立新功 谱写时代新篇章",
        "肇庆高新区总工会：四个聚焦 交出一份服务职工高分答卷",
    ]
    assert [a.byline for a in seed_articles] == [
        "全媒体记者彭新启 通讯员陈善铭", "全媒体记者彭新启 通讯员梁嘉欣"]


def test_words_cut_across_lines_are_whole_again(seed_articles):
    body = [p.text for a in seed_articles for p in a.passages if p.kind == BODY]
    joined = "\n".join(body)
    for word in ["代表大会", "黎贤花", "爱心托管服务", "工人文化宫", "产业工人队伍建设改革"]:
        assert word in joined
    assert all("\n" not in p for p in body)
    # Wrapped lines join without spaces between Chinese characters.
    assert any(p.startswith("肇庆市广宁县工会第十四次代表大会以来，全县各级工会") for p in body)


def test_headings_bylines_and_captions_are_not_glued_into_body(seed_articles):
    passages = [p for a in seed_articles for p in a.passages]
    kinds = {p.text: p.kind for p in passages}
    assert kinds["坚定政治方向"] == HEADING
    assert kinds["■全媒体记者彭新启 通讯员陈善铭"] == BYLINE
    assert kinds["■2021年11月20日，肇庆高新区新业态行业工会联合会成立。 单位供图"] == CAPTION
    body = [p for p in passages if p.kind == BODY]
    assert not any("坚定政治方向" in p.text or "■" in p.text for p in body)
    first_under_heading = next(p for p in body if p.text.startswith("围绕学习宣传"))
    assert first_under_heading.section == "坚定政治方向 思想政治引领取得新成效"


def test_paragraphs_end_where_sentences_end_short_of_the_column():
    text = "第一段的第一行很长很长很长很长\n\n第一段的结尾。\n\n第二段的第一行很长很长很长很长\n\n第二段结束了。\n\n第三段第一行很长很长很长很长长\n\n结束。"
    assert [b.text for b in reflow_paragraphs(text)] == [
        "第一段的第一行很长很长很长很长第一段的结尾。",
        "第二段的第一行很长很长很长很长第二段结束了。",
        "第三段第一行很长很长很长很长长结束。",
    ]


def test_latin_words_keep_one_space_across_a_wrap():
    text = "\n\n".join(["这是一个很长的句子包括英文单词 Hello"] * 3 + ["World 和中文继续写下去。"])
    body = reflow_paragraphs(text)[-1].text
    assert "Hello World" in body


def test_markdown_makes_one_article_per_story():
    articles = read_report(NEWS_MD.encode(), "20230515.md")
    assert [a.title for a in articles] == ["全国总工会表彰劳动模范", "故宫博物院推出新展览"]
    first = articles[0]
    texts = [p.text for p in first.passages]
    assert texts[1].startswith("央视网消息（新闻联播）：")  # emphasis markup stripped
    assert not any("查看原文" in t for t in texts)  # navigation link dropped
    assert all(p.section == "详细新闻" for p in first.passages)


def test_dates_come_from_the_file_name_or_the_text():
    assert date_from_name("20230515.md") == "2023-05-15"
    assert date_from_name("report-2021-11-20.txt") == "2021-11-20"
    assert date_from_name("000_37542822596f49c6.txt") is None
    assert date_from_text("本报讯 2023年5月15日，全县召开大会") == "2023-05-15"
    assert date_from_text("没有日期") is None


TEXT = "全国劳动模范黎贤花荣获称号。\n广宁县总工会举办劳模宣讲活动。\n"


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "big5", "utf-8", "utf-8-sig", "utf-16"])
def test_encodings_are_detected(encoding):
    text = TEXT if encoding != "big5" else "全國勞動模範黎賢花榮獲稱號。\n廣寧縣總工會舉辦勞模宣講活動。\n"
    articles = read_report(text.encode(encoding), "report.txt")
    assert [p.text for p in articles[0].passages] == text.strip().split("\n")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends(newline):
    articles = read_report(TEXT.replace("\n", newline).encode(), "r.txt")
    assert [p.text for p in articles[0].passages] == TEXT.strip().split("\n")


@pytest.mark.parametrize("data, name, reason", [
    (b"", "empty.txt", "empty"),
    (b"   \n\n", "blank.txt", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.txt", "binary"),
    (b"hello", "report.exe", "not a supported report format"),
    (b"\xd6\xd0\xce\xc4" * 10 + b"\xd6", "cut-short.txt", "encoding"),
])
def test_unreadable_files_are_refused_with_a_reason(data, name, reason):
    with pytest.raises(UnsupportedFile) as caught:
        read_report(data, name)
    assert reason in str(caught.value)
    assert str(caught.value).startswith(name + ": ")
    assert "\n" not in str(caught.value)


def test_utf8_cut_off_inside_its_last_character_is_still_read():
    data = "全国劳动模范黎贤花。".encode()[:-1]
    assert read_report(data, "cut.txt")[0].passages[0].text == "全国劳动模范黎贤花"


@pytest.mark.parametrize("data, name", [
    (b'<html><head><meta charset="base64"></head><body><p>\xe5\x8a\xb3\xe6\xa8\xa1</p></body></html>',
     "codec.html"),
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
     b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
     b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBoy [0 0 612 792] >> endobj\n"
     b"trailer << /Root 1 0 R >>\n%%EOF", "odd.pdf"),
])
def test_odd_files_are_read_or_refused_never_raise_anything_else(data, name):
    try:
        articles = read_report(data, name)
    except UnsupportedFile as refused:
        assert "\n" not in str(refused)
    else:
        assert articles
