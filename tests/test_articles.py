"""What every reader's articles get once read (issue 18): a title from the
file name where the report has none."""

from __future__ import annotations

import csv
import io
import json

from indexer.readers import read_report
from indexer.search import SearchService
from indexer.store import Store

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

