"""What every reader's articles get once read (issue 18): a title from the
file name where the report has none, and digest lines marked."""

from __future__ import annotations

import csv
import io
import json

from indexer.document import DIGEST
from indexer.readers import read_report
from indexer.search import SearchService
from indexer.store import Store

# A day of a news programme: a digest whose lines repeat the headlines below,
# two stories, and a third story that mentions the first one's words in passing.
NEWS_DAY = """# 《新闻联播》（20230103）

## 新闻摘要

本期节目主要内容：

1.王岐山出席巴西新任总统就职仪式；

2.全国铁路元旦假期发送旅客超千万人次；

3.多地举办冰雪运动季开幕活动；

## 详细新闻

### 王岐山出席巴西新任总统就职仪式

央视网消息（新闻联播）：当地时间1月1日，国家副主席王岐山作为习近平主席特使，在巴西利亚出席巴西新任总统卢拉就职仪式。

王岐山转达了习近平主席对卢拉的诚挚祝贺和良好祝愿。

### 全国铁路元旦假期发送旅客超千万人次

记者从国铁集团获悉，元旦假期全国铁路累计发送旅客超过一千万人次，运输安全平稳有序。

### 多地举办冰雪运动季开幕活动

多地举办冰雪运动季开幕活动，群众在雪场体验滑雪乐趣。

此前，王岐山在巴西出席了新任总统就职仪式，这一消息也在当地引发关注。
"""


def _service(tmp_path, files: dict[str, str]) -> SearchService:
    corpus = tmp_path / "c"
    for name, text in files.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    store = Store(corpus, tmp_path / "i")
    store.sync()
    return SearchService(store)


# Its headline lives only in the file name, as accident reports often keep it.
UNTITLED_NAME = "cec17/比亚迪货车撞上摩托车2人受伤.txt"
UNTITLED_TEXT = "12日上午，澄城县一辆货车与摩托车相撞，造成2人受伤。\n\n伤者已送医救治，事故原因正在调查中。\n"


def test_a_report_without_a_title_line_is_titled_by_its_file_name(tmp_path, zhsearch_at):
    service = _service(tmp_path, {UNTITLED_NAME: UNTITLED_TEXT})
    name = "比亚迪货车撞上摩托车2人受伤"
    titles = service.search("比亚迪", scope="title").hits
    assert [(h.title, h.kind, h.source) for h in titles] == [(name, "title", UNTITLED_NAME)]
    hit = service.search("摩托车").hits[0]
    assert hit.title == name and hit.to_json()["title"] == name
    assert service.article(hit.article).title == name
    run = zhsearch_at(tmp_path / "c", tmp_path / "i")
    shown = run("show", hit.article)
    assert shown.exit_code == 0 and name in shown.output.splitlines()[0]
    assert json.loads(run("search", "摩托车", "--json").output)["hits"][0]["title"] == name
    exported = run("export", "摩托车", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.output.lstrip("\ufeff"))))
    assert rows and {r["title"] for r in rows} == {name}


def test_a_file_name_without_chinese_names_no_story(tmp_path):
    service = _service(tmp_path, {"scan0001.txt": UNTITLED_TEXT})
    assert service.search("摩托车").hits[0].title == ""
    assert service.search("scan0001", scope="title").total == 0


def test_digest_lines_are_marked_and_stories_are_not():
    articles = read_report(NEWS_DAY.encode(), "20230103.md")
    kinds = {a.title: {p.kind for p in a.passages[1:]} for a in articles}
    assert kinds["新闻摘要"] == {DIGEST}
    assert all(DIGEST not in k for title, k in kinds.items() if title != "新闻摘要")


def test_a_story_that_quotes_two_headlines_is_no_digest():
    titles = ["全县举行春季职工运动会", "县总工会慰问一线环卫工人", "产业工人技能大赛圆满落幕"]
    stories = "".join(f"# {t}\n\n{t}的正文。\n\n" for t in titles)
    quoting = stories + ("# 一周回顾\n\n全县举行春季职工运动会\n\n县总工会慰问一线环卫工人\n\n"
                         "本周还有很多别的消息。\n")
    articles = read_report(quoting.encode(), "回顾.md")
    assert all(p.kind != DIGEST for a in articles for p in a.passages)
    # Three lines that repeat headlines make it a digest.
    listing = quoting.replace("本周还有很多别的消息。", "产业工人技能大赛圆满落幕")
    kinds = {a.title: [p.kind for p in a.passages] for a in read_report(listing.encode(), "回顾.md")}
    assert kinds["一周回顾"][1:] == [DIGEST] * 3
