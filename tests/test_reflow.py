"""The reflow on the reports of issue 12, one test per case, and on hostile lines."""

from __future__ import annotations

import signal

import pytest

from indexer.document import BODY, BYLINE, HEADING, TITLE
from indexer.readers import read_report
from indexer.readers.reflow import Layout, reflow_paragraphs, split_lines


def read(text: str, name: str = "report.txt"):
    return read_report(text.encode("utf-8"), name)


def texts(articles, kind=None) -> list[str]:
    return [p.text for a in articles for p in a.passages if kind is None or p.kind == kind]


# Indented with two full-width spaces and wrapped at 30 columns: 紧紧|围绕 and 选|手 are cut.
NOTICE = """关于举办2023年全市职工职业技能大赛的通知
各基层工会：
　　为深入学习贯彻党的二十大精神，全面落实市委工作部署，紧紧
围绕全市中心工作，大力弘扬劳模精神、劳动精神、工匠精神，经研
究，决定举办2023年全市职工职业技能大赛。现将事项通知如下：
　　一、参赛对象。全市各类企业在职职工均可报名参赛，每个单位
推荐参加本次大赛决赛阶段比赛的人数原则上均不超过10名，参赛选
手须为本单位在职职工。
　　二、报名时间。即日起至2023年6月30日止，逾期不予受理。
"""


def test_an_indented_notice_wrapped_at_30_is_read_as_its_paragraphs():
    articles = read(NOTICE)
    assert [a.title for a in articles] == ["关于举办2023年全市职工职业技能大赛的通知"]
    assert texts(articles, BODY) == [
        "各基层工会：",
        "为深入学习贯彻党的二十大精神，全面落实市委工作部署，紧紧围绕全市中心工作，大力弘扬劳模精神、"
        "劳动精神、工匠精神，经研究，决定举办2023年全市职工职业技能大赛。现将事项通知如下：",
        "一、参赛对象。全市各类企业在职职工均可报名参赛，每个单位推荐参加本次大赛决赛阶段比赛的人数"
        "原则上均不超过10名，参赛选手须为本单位在职职工。",
        "二、报名时间。即日起至2023年6月30日止，逾期不予受理。",
    ]


def test_the_notices_cut_words_are_found(tmp_path):
    from indexer.search import SearchService
    from indexer.store import Store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notice.txt").write_text(NOTICE, encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    service = SearchService(store)
    for word in ["选手", "紧紧围绕", "职业技能大赛"]:
        assert service.search(word).total >= 1, word


# A wrapped news report (20 columns) whose second paragraph begins with 记者;
# 恐|怖 is cut at its first line end.
NEWS = """新华社北京5月10日电
公安部10日召开新闻发布会，通报今年以来全
国公安机关开展专项行动的情况。
记者从发布会上获悉，公安机关持续开展反恐
怖斗争，依法严厉打击各类违法犯罪活动，社
会治安形势总体稳定。
"""


def test_a_paragraph_that_begins_with_reporter_is_text_not_a_byline():
    articles = read(NEWS)
    body = texts(articles, BODY)
    assert body == [
        "公安部10日召开新闻发布会，通报今年以来全国公安机关开展专项行动的情况。",
        "记者从发布会上获悉，公安机关持续开展反恐怖斗争，依法严厉打击各类违法犯罪活动，"
        "社会治安形势总体稳定。",
    ]
    assert texts(articles, BYLINE) == ["新华社北京5月10日电"]


def test_a_reporter_at_the_start_of_a_wrapped_line_stays_in_its_paragraph():
    text = ("本台消息，市总工会召开劳模座谈会，本台\n\n"
            "记者在现场看到，二十多位劳模代表围坐在一\n\n"
            "起，畅谈新时代劳模精神。\n")
    assert [(b.text, b.kind) for b in reflow_paragraphs(text)] == [
        ("本台消息，市总工会召开劳模座谈会，本台记者在现场看到，二十多位劳模代表围坐在一起，"
         "畅谈新时代劳模精神。", BODY)]


def test_a_byline_is_a_short_line_of_names():
    articles = read("深圳市总工会召开劳模座谈会\n\n本报记者 李四 通讯员 王五\n\n"
                    "5月10日，深圳市总工会召开劳模座谈会，二十多位劳模代表参加。\n")
    assert [a.byline for a in articles] == ["本报记者 李四 通讯员 王五"]
    assert texts(articles, BYLINE) == ["本报记者 李四 通讯员 王五"]


# Wrapped at 24 columns. The line with the URL is 24 columns but 39
# characters; the one after it is short because "Workers" did not fit.
URL_REPORT = """市总工会今天发布通知，职工可登录市总工会官方网站
查询大赛报名办法（网址 https://www.szzgh.org/a/1
）或拨打热线咨询，也可关注微信公众号 Shenzhen
Workers Union 获取赛事动态，报名截止时间为月底。
"""


def test_lines_short_or_long_only_by_latin_letters_are_not_headings():
    articles = read(URL_REPORT)
    assert texts(articles) == [
        "市总工会今天发布通知，职工可登录市总工会官方网站查询大赛报名办法（网址 https://www.szzgh.org/a/1）"
        "或拨打热线咨询，也可关注微信公众号 Shenzhen Workers Union 获取赛事动态，报名截止时间为月底。"]
    lines, layout = Layout.read(URL_REPORT)
    assert layout.measure == 24


def test_a_report_wrapped_by_counting_characters_is_read_too():
    # 20 characters a line whatever their width, as some tools wrap.
    text = ("今年以来，全市累计开展GDP核算培训12场，覆盖\n"
            "企业财务人员3000多人次，推动企业规范填报统\n"
            "计数据，相关工作得到国家统计局充分肯定。\n")
    assert texts(read(text)) == [
        "今年以来，全市累计开展GDP核算培训12场，覆盖企业财务人员3000多人次，推动企业规范填报统"
        "计数据，相关工作得到国家统计局充分肯定。"]


def test_a_date_line_sets_the_date_and_is_not_part_of_the_title():
    articles = read("2023年5月10日\n深圳市总工会召开劳模座谈会\n"
                    "本报讯 5月10日上午，深圳市总工会召开劳模座谈会，二十多位劳模代表参加座谈。\n")
    assert [a.title for a in articles] == ["深圳市总工会召开劳模座谈会"]
    assert [a.date for a in articles] == ["2023-05-10"]
    passages = [(p.text, p.kind) for p in articles[0].passages]
    assert ("2023年5月10日", BYLINE) in passages
    assert ("深圳市总工会召开劳模座谈会", TITLE) in passages


def test_the_date_line_dates_the_file_in_the_index(tmp_path):
    from indexer.search import SearchService
    from indexer.store import Store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # The date line comes after the title, the unit and the byline: past the
    # opening passages, where a date in the text is looked for.
    (corpus / "meeting.txt").write_text(
        "深圳市总工会召开劳模座谈会\n深圳市总工会：\n记者 张三\n2023年5月10日\n\n"
        "二十多位劳模代表参加座谈。\n", encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    hits = SearchService(store).search("劳模代表").hits
    assert [(h.source, h.date) for h in hits] == [("meeting.txt", "2023-05-10")]


def test_a_salutation_is_not_part_of_the_title():
    articles = read("关于2023年度全市工会经费审计情况的通报\n各基层工会：\n"
                    "　　根据年度工作安排，市总工会对各基层工会2023年度经费收支情况进行了审计。\n")
    assert [a.title for a in articles] == ["关于2023年度全市工会经费审计情况的通报"]
    assert [(p.text, p.kind) for p in articles[0].passages][1] == ("各基层工会：", BODY)


@pytest.mark.parametrize("text", [
    # blank lines between paragraphs, headline glued to the first paragraph
    "深圳市总工会召开劳模座谈会\n本报讯（记者 张三）5月10日上午，深圳市总工会召开劳模座谈会，"
    "二十多位来自各行各业的劳模代表参加座谈。\n\n会议强调，要大力弘扬劳模精神、劳动精神、工匠精神。\n",
    # the same with a date line, and every part parted by a blank line
    "深圳市总工会召开劳模座谈会\n\n2023年5月10日\n\n本报讯（记者 张三）5月10日上午，深圳市总工会"
    "召开劳模座谈会，二十多位来自各行各业的劳模代表参加座谈。\n\n会议强调，要大力弘扬劳模精神、"
    "劳动精神、工匠精神。\n",
])
def test_a_headline_before_text_in_a_file_with_blank_lines_between_paragraphs_is_the_title(text):
    articles = read(text)
    assert [a.title for a in articles] == ["深圳市总工会召开劳模座谈会"]
    body = texts(articles, BODY)
    assert body[0].startswith("本报讯（记者 张三）5月10日上午")
    assert body[-1] == "会议强调，要大力弘扬劳模精神、劳动精神、工匠精神。"
    assert not any("座谈会本报讯" in t for t in texts(articles))


def test_a_wrapped_headline_is_one_title_and_headings_stay_apart():
    # Wrapped at 16 columns, blank lines between paragraphs.
    text = ("关于表彰2023年度全市优秀\n工会工作者的决定\n\n"
            "经研究，决定对张三等二十名同志\n予以表彰。\n\n"
            "一、表彰名单\n\n"
            "张三、李四等二十名同志获评优秀\n工会工作者。\n")
    articles = read(text)
    assert [a.title for a in articles] == ["关于表彰2023年度全市优秀工会工作者的决定"]
    kinds = {p.text: p.kind for p in articles[0].passages}
    assert kinds["一、表彰名单"] == HEADING
    assert kinds["经研究，决定对张三等二十名同志予以表彰。"] == BODY


@pytest.mark.parametrize("convention", ["blank after every line", "crlf", "trailing spaces"])
def test_conventions_of_a_copy_paste_do_not_change_the_paragraphs(convention):
    plain = ("肇庆市广宁县工会第十四次代表大\n会以来，全县各级工会在县委和上级\n工会的坚强领导下，"
             "紧跟发展需要。\n")
    text = {
        "blank after every line": plain.replace("\n", "\n\n"),
        "crlf": plain.replace("\n", "\r\n"),
        "trailing spaces": plain.replace("\n", " \u3000\n"),
    }[convention]
    assert [b.text for b in reflow_paragraphs(text)] == [
        "肇庆市广宁县工会第十四次代表大会以来，全县各级工会在县委和上级工会的坚强领导下，紧跟发展需要。"]


# --- hostile lines: every one read well within a generous bound ----------------

# About 100,000 characters each. The first took minutes with the pattern
# [。！？!?…]+[”’」』）)"']*$ searched over the line (9 s at 40,000).
HOSTILE = [
    "。" * 100_000 + "x",
    "。x" * 50_000,
    "”" * 100_000 + "。",
    "记者" * 50_000 + "，",
    "■" + "记者 张三 " * 16_000,
    "各" * 100_000 + "：",
    "工会" * 50_000 + "：",
    "2023年" * 20_000 + "5月10日",
    " " * 100_000 + "字",
    "https://" + "a/" * 50_000,
    ("字" * 20 + "\n") * 5_000,                          # 5,000 lines at one measure
    "\n".join("字" * (i % 97 + 1) for i in range(2_000)),  # 2,000 lines of every width
    "记者 张三\n\n" * 15_000,
    "记者张三 " * 20_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_100k_text_is_read_in_bounded_time(text):
    def too_slow(*_):
        raise TimeoutError("reading took over 10 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)  # generous: each takes well under a second
    try:
        blocks = reflow_paragraphs(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert blocks
    assert sum(len(b.text) for b in blocks) <= len(text)


def test_a_file_of_many_short_lines_has_a_short_title_and_is_read_in_bounded_time():
    # 40,000 lines that all look like headings: the title took every one of
    # them (quadratic: 20,000 took 11.6 s) and so did the section headings.
    text = "\n\n".join("条目" * (i % 5 + 1) + "之" + str(i) for i in range(40_000))

    def too_slow(*_):
        raise TimeoutError("reading took over 10 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        articles = read(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert articles[0].title == "条目之0 条目条目之1 条目条目条目之2 条目条目条目条目之3"
    assert max(len(p.section) for a in articles for p in a.passages) < 200  # 4 lines at most


def test_split_lines_measures_from_the_common_margin():
    lines = split_lines("    一行文字\n      缩进一行\n")
    assert [(line.text, line.indent) for line in lines] == [("一行文字", 0.0), ("缩进一行", 1.0)]


def test_the_fast_width_agrees_with_east_asian_width_for_every_character():
    import unicodedata

    from indexer.readers.reflow import _ASCII_OR_WIDE, display_width

    wide = [chr(c) for c in range(0x80, 0x10000) if _ASCII_OR_WIDE.fullmatch(chr(c))]
    assert all(unicodedata.east_asian_width(ch) in "WFA" for ch in wide)
    assert display_width("２０２３年“劳模” é Ω") == 12.0
