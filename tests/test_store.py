"""Adding, updating, removing and syncing files: idempotent, nothing lost."""

import re
from pathlib import Path

import pytest

from indexer.errors import NotInCorpus
from indexer.search import SearchService
from indexer import integrity
from indexer.store import Store


def _total(store: Store, query: str) -> int:
    return SearchService(store).search(query, limit=0).total


def _passages(store: Store) -> int:
    return integrity.stats(store)["passages"]


def test_sync_indexes_every_report_in_the_corpus(store):
    stats = integrity.stats(store)
    assert (stats["files"], stats["articles"]) == (2, 4)
    assert not store.is_stale()


def test_add_copies_the_file_and_makes_it_searchable(store, tmp_path):
    new = tmp_path / "新报告.txt"
    new.write_text("县总工会开展送清凉活动，慰问一线职工。", encoding="utf-8")
    report = store.add_files([new])
    assert [(o.name, o.status) for o in report.outcomes] == [("新报告.txt", "added")]
    assert (store.corpus_dir / "新报告.txt").read_bytes() == new.read_bytes()
    assert _total(store, "送清凉") == 1
    assert not list(store.corpus_dir.glob(".zhsearch-*"))  # no temporary file left


def test_adding_the_same_content_again_changes_nothing(store, tmp_path):
    new = tmp_path / "a.txt"
    new.write_text("职工书屋建设情况。", encoding="utf-8")
    store.add_files([new])
    before = _passages(store)
    report = store.add_files([new])
    assert [o.status for o in report.outcomes] == ["unchanged"]
    assert _passages(store) == before
    assert _total(store, "职工书屋") == 1


def test_a_changed_file_replaces_its_old_passages(store, tmp_path):
    new = tmp_path / "a.txt"
    new.write_text("第一版：职工书屋建设。", encoding="utf-8")
    store.add_files([new])
    new.write_text("第二版：职工食堂改造。", encoding="utf-8")
    report = store.add_files([new])
    assert [o.status for o in report.outcomes] == ["updated"]
    assert (_total(store, "职工书屋"), _total(store, "职工食堂")) == (0, 1)


def test_refused_files_do_not_stop_the_others_or_touch_the_index(store, tmp_path):
    before = _passages(store)
    good, empty, binary = tmp_path / "good.txt", tmp_path / "empty.txt", tmp_path / "bin.txt"
    good.write_text("会员服务卡发放。", encoding="utf-8")
    empty.write_bytes(b"")
    binary.write_bytes(bytes(range(256)) * 4)
    report = store.add_files([empty, good, binary, tmp_path / "missing.txt"])
    assert {o.name: o.status for o in report.outcomes} == {
        "empty.txt": "refused", "good.txt": "added", "bin.txt": "refused",
        "missing.txt": "refused"}
    assert _total(store, "会员服务卡") == 1
    assert _passages(store) == before + 1
    assert not (store.corpus_dir / "empty.txt").exists()


def test_file_names_never_escape_the_corpus(store, tmp_path):
    report = store.add_uploads([("../../escape.txt", "逃逸测试内容。".encode())])
    assert [(o.name, o.status) for o in report.outcomes] == [("escape.txt", "added")]
    assert (store.corpus_dir / "escape.txt").exists()
    assert not (store.corpus_dir.parent.parent / "escape.txt").exists()


def test_remove_deletes_the_file_and_its_passages(store):
    assert _total(store, "故宫") > 0
    removed = store.remove("20230515.md")
    assert removed == 5
    assert _total(store, "故宫") == 0
    assert not (store.corpus_dir / "20230515.md").exists()
    with pytest.raises(NotInCorpus):
        store.remove("20230515.md")


def test_sync_follows_new_changed_and_deleted_files(store):
    corpus: Path = store.corpus_dir
    (corpus / "new.txt").write_text("新增报告：职工疗休养。", encoding="utf-8")
    (corpus / "20230515.md").unlink()
    (corpus / "000_37542822596f49c6.txt").write_text("改写后的报告：职工书法比赛。", encoding="utf-8")
    assert store.is_stale()
    report = store.sync()
    assert sorted((o.name, o.status) for o in report.outcomes) == [
        ("000_37542822596f49c6.txt", "updated"), ("20230515.md", "removed"),
        ("new.txt", "added")]
    assert (_total(store, "疗休养"), _total(store, "故宫"), _total(store, "黎贤花")) == (1, 0, 0)
    assert _total(store, "书法比赛") == 1
    assert not store.is_stale()
    assert store.sync().outcomes == []


def test_a_touched_but_unchanged_file_is_not_indexed_again(store):
    path = store.corpus_dir / "20230515.md"
    before = _passages(store)
    path.touch()
    path.write_bytes(path.read_bytes())
    report = store.sync()
    assert [o.status for o in report.outcomes] == ["unchanged"]
    assert _passages(store) == before and not store.is_stale()


def test_gb18030_and_big5_reports_are_searchable(store, tmp_path):
    gb, big5 = tmp_path / "gb.txt", tmp_path / "big5.txt"
    gb.write_bytes("广宁县总工会组织职工登山比赛。".encode("gb18030"))
    big5.write_bytes("肇慶市總工會舉辦職工籃球聯賽。".encode("big5"))
    store.add_files([gb, big5])
    assert _total(store, "登山比赛") == 1
    assert _total(store, "篮球联赛") == 1


@pytest.mark.parametrize("name, code", [("a\x00b.txt", "name_control"), ("line\nbreak.txt", "name_control"),
                                        ("长" * 100 + ".txt", "name_too_long"), (".hidden.txt", "name_hidden")])
def test_invalid_file_names_are_refused_not_raised(store, name, code):
    report = store.add_uploads([(name, "内容。".encode())])
    assert [(o.status, o.code) for o in report.outcomes] == [("refused", code)]
    assert report.outcomes[0].reason.startswith("not a valid file name: ")


def test_a_changed_file_cuts_only_its_changed_paragraphs_into_words(store, tmp_path, monkeypatch):
    path = tmp_path / "long.txt"
    paragraphs = [f"第{n}段：县总工会开展职工技能培训{'和竞赛' * n}活动。" for n in range(1, 9)]
    path.write_text("\n".join(paragraphs), encoding="utf-8")
    store.add_files([path])
    segmented: list[str] = []
    segmenter = store.segmenter()
    real_cut = segmenter.cut
    monkeypatch.setattr(segmenter, "cut", lambda text: segmented.append(text) or real_cut(text))
    paragraphs[3] = "第4段：县总工会组织劳模疗休养。"
    path.write_text("\n".join(paragraphs), encoding="utf-8")
    report = store.add_files([path])
    assert [(o.status, o.passages) for o in report.outcomes] == [("updated", 8)]
    # The changed paragraph alone (its runs of Chinese, however they are batched).
    assert re.sub(r"\s", "", "".join(segmented)) == "第段县总工会组织劳模疗休养"
    assert (_total(store, "疗休养"), _total(store, "技能培训")) == (1, 7)
    assert integrity.check(store) == []


def test_remove_never_touches_files_outside_the_reports(store):
    outside = store.corpus_dir.parent / "precious.txt"
    outside.write_text("不能删除。", encoding="utf-8")
    (store.corpus_dir / "userdict.dic").write_text("暖企行动 100 n\n", encoding="utf-8")
    for name in ["../precious.txt", "userdict.dic", "."]:
        with pytest.raises(NotInCorpus):
            store.remove(name)
    assert outside.exists() and (store.corpus_dir / "userdict.dic").exists()


def test_two_files_of_one_batch_with_the_same_name(store):
    report = store.add_uploads([("报告.txt", "第一份：劳模座谈。".encode()),
                                ("报告.txt", "第二份：职工运动会。".encode())])
    # Both kept, as `zhsearch add` keeps them (issue 19): the later numbered.
    assert [(o.name, o.status, o.renamed_from) for o in report.outcomes] == [
        ("报告.txt", "added", ""), ("报告 (2).txt", "added", "报告.txt")]
    assert (_total(store, "运动会"), _total(store, "劳模座谈")) == (1, 1)
    assert integrity.check(store) == []


def test_an_upload_after_a_dictionary_change_leaves_the_index_due_for_a_rebuild(store):
    (store.corpus_dir / "userdict.dic").write_text("暖企行动 100 n\n", encoding="utf-8")
    store.add_uploads([("新.txt", "推进暖企行动计划。".encode())])
    assert store.is_stale()
    store.sync()
    assert not store.is_stale()


def test_a_symbolic_link_is_refused_in_the_same_words_by_index_and_by_add(store, tmp_path):
    # The two doors worded it two ways ("indexes only files in the corpus
    # folder itself" / "add the file it points to"): one rule, one reason.
    secret = tmp_path / "secret.txt"
    secret.write_text("机密文件里的银色狐狸。\n", encoding="utf-8")
    (store.corpus_dir / "link.txt").symlink_to(secret)
    link = tmp_path / "passwd.txt"
    link.symlink_to(secret)
    synced = [(o.name, o.code, o.reason) for o in store.sync().refused]
    added = [(o.name, o.code, o.reason) for o in store.add_files([link]).refused]
    assert [code for _, code, _ in synced + added] == ["symlink", "symlink"]
    assert synced[0][2] == added[0][2]
    assert not (store.corpus_dir / "passwd.txt").exists()
    assert _total(store, "银色狐狸") == 0


def test_the_index_stores_kinds_and_fields_as_plain_strings(store):
    # Kind is a StrEnum: stored as a member it would be pickled as
    # indexer.document.Kind, and stock Whoosh could not read the index alone.
    ix = store.open_index(create=False)
    with ix.searcher() as searcher:
        kinds = {type(doc["kind"]) for doc in searcher.all_stored_fields()}
    assert kinds == {str}
