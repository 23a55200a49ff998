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


def test_a_search_notices_changes_through_the_stamp_of_the_commit(store):
    """is_stale reads the stamp beside the index, not the records; a changed,
    an added and a removed report are each still noticed."""
    from indexer import stamp

    assert stamp.read(store.index_dir) is not None  # written by the commit
    corpus: Path = store.corpus_dir
    path = corpus / "20230515.md"
    original = path.read_bytes()
    path.write_bytes(original.replace("故宫".encode(), "颐和园".encode()))
    assert store.is_stale()
    store.sync()
    assert not store.is_stale() and (_total(store, "颐和园"), _total(store, "故宫")) == (2, 0)
    (corpus / "new.txt").write_text("新增报告：职工疗休养。", encoding="utf-8")
    assert store.is_stale()
    store.sync()
    assert not store.is_stale()
    (corpus / "new.txt").unlink()
    assert store.is_stale()


def test_a_stamp_of_an_earlier_commit_is_never_trusted(store):
    """A stamp put back from an earlier commit (a restored backup, a racing
    writer) says the corpus matches the index when it does not: it is ignored."""
    import os

    from indexer import stamp

    path = store.corpus_dir / "20230515.md"
    first, first_stat = path.read_bytes(), path.stat()
    old_stamp = (store.index_dir / stamp.STAMP_FILE).read_bytes()
    path.write_bytes(first.replace("故宫".encode(), "颐和园".encode()))
    store.sync()  # the index now holds 颐和园
    path.write_bytes(first)  # back to the first content, size and mtime
    os.utime(path, ns=(first_stat.st_atime_ns, first_stat.st_mtime_ns))
    (store.index_dir / stamp.STAMP_FILE).write_bytes(old_stamp)
    assert store.is_stale()
    store.sync()
    assert (_total(store, "故宫"), _total(store, "颐和园")) == (2, 0)


def test_a_damaged_or_wrong_stamp_is_found_by_check_and_written_anew(store):
    from indexer import stamp

    file = store.index_dir / stamp.STAMP_FILE
    file.write_bytes(file.read_bytes().replace(b'"20230515.md":[', b'"20230515.md":[1'))
    assert stamp.read(store.index_dir) is None  # the checksum fails: never read
    assert not store.is_stale()  # the records answer instead, and write it anew
    assert stamp.read(store.index_dir) is not None
    # A stamp with a right checksum that disagrees with the records.
    kept = stamp.read(store.index_dir)
    assert kept is not None
    wrong = stamp.Stamp(kept.commit, kept.analysis, {**kept.files, "20230515.md": (1, 2.0)})
    assert stamp.write(store.index_dir, wrong)
    problems = integrity.check(store)
    assert [(p.source, p.description) for p in problems] == [
        (stamp.STAMP_FILE, "the corpus stamp disagrees with the index's records on 1 reports")]
    integrity.repair(store, problems)
    assert integrity.check(store) == [] and stamp.read(store.index_dir) == store.stamp()
    file.write_bytes(b"not a stamp")
    assert [p.source for p in integrity.check(store)] == [stamp.STAMP_FILE]


def test_the_corpus_listing_skips_hidden_folders_and_links_in_path_order(tmp_path):
    import os

    from indexer.corpus import Corpus

    folder = tmp_path / "corpus"
    for name in ("b/2.txt", "b/10.md", "a.txt", "b.txt", "a/z/1.txt", ".git/x.txt",
                 "a/.hidden/y.txt", "b/notes.xyz"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("职工。", encoding="utf-8")
    (folder / "link.txt").symlink_to(folder / "a.txt")
    (folder / "linked").symlink_to(folder / "b", target_is_directory=True)
    os.mkdir(os.fsencode(folder) + b"/\xff\xfe")
    (Path(os.fsdecode(os.fsencode(folder) + b"/\xff\xfe")) / "c.txt").write_text("职工。")
    corpus = Corpus(folder)
    files = corpus.files()
    # Path order: "a" < "a.txt" (a folder's reports before the file named after it).
    assert list(files) == ["a/z/1.txt", "a.txt", "b/10.md", "b/2.txt", "b.txt"]
    assert files["a/z/1.txt"] == folder / "a" / "z" / "1.txt"
    assert [(s.name, s.code) for s in corpus.skipped] == [
        ("link.txt", "symlink"), ("??", "name_encoding"),
        ("??/c.txt", "name_encoding")]


def test_an_upload_is_committed_even_when_its_stamp_cannot_be_read_after(store, monkeypatch):
    """The stamp is read after the writer lock went: another writer's merge can
    delete a segment under it and Whoosh raises (TypeError: 'NoneType'…). The
    upload is in all the same, and the next search reads the records."""
    from whoosh.util.varints import varint

    from indexer import stamp

    def raced(self, searcher):
        return varint(None)  # a TypeError raised inside Whoosh

    monkeypatch.setattr(Store, "stamp_of", raced)
    report = store.add_uploads([("新.txt", "职工疗休养活动。".encode())])
    assert [o.status for o in report.outcomes] == ["added"]
    monkeypatch.undo()
    assert stamp.read(store.index_dir).commit != stamp.toc_identity(
        store.index_dir, max(int(p.stem.split("_")[-1]) for p in store.index_dir.glob("_MAIN_*.toc")))
    assert not store.is_stale() and _total(store, "疗休养") == 1
