"""Vocabulary, synonyms, question words and "did you mean"."""

import json

import pytest

from indexer.analysis import segment
from indexer.search import SearchService
from indexer.store import Store


def _service(tmp_path, files: dict[str, str], dictionary: str = "", synonyms: str = "",
             **options):
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    if dictionary:
        (corpus / "userdict.dic").write_text(dictionary, encoding="utf-8")
    if synonyms:
        (corpus / "synonyms.dic").write_text(synonyms, encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    return store, SearchService(store, **options)


def _sources(result):
    return [h.source for h in result.hits]


def test_domain_words_stay_whole():
    for word in ["劳模", "职代会", "产改", "工匠人才", "爱心托管", "职工之家", "新就业形态", "五一劳动奖章"]:
        assert segment(f"开展{word}工作") == ["开展", word, "工作"], word


def test_synonyms_work_both_ways_and_rank_after_the_exact_word(tmp_path):
    _, service = _service(tmp_path, {
        "exact.txt": "本县表彰劳模十名，劳模代表发言。",
        "synonym.txt": "全国劳动模范黎贤花。",
    })
    result = service.search("劳模")
    assert _sources(result) == ["exact.txt", "synonym.txt"]
    assert "<mark>劳动模范</mark>" in result.hits[1].highlight
    assert _sources(service.search("劳动模范")) == ["synonym.txt", "exact.txt"]
    assert service.search('"劳模"').total == 1  # quoted: the exact text only


def test_users_add_synonyms_and_words_in_the_corpus_folder(tmp_path):
    store, service = _service(tmp_path, {"a.txt": "开展职工书屋建设。"}, synonyms="书屋 阅览室\n")
    assert _sources(service.search("阅览室")) == ["a.txt"]


def test_an_edited_synonyms_file_counts_without_a_restart(tmp_path):
    store, service = _service(tmp_path, {"a.txt": "开展职工书屋建设。"}, synonyms="书屋 阅览室\n",
                              refresh_seconds=0.0)
    assert _sources(service.search("阅览室")) == ["a.txt"]
    assert service.search("图书角").total == 0
    (store.corpus_dir / "synonyms.dic").write_text("书屋 阅览室 图书角\n", encoding="utf-8")
    assert _sources(service.search("图书角")) == ["a.txt"]


def test_changing_the_user_dictionary_triggers_a_reindex(tmp_path):
    store, service = _service(tmp_path, {"a.txt": "推进暖企行动计划。"})
    assert not store.is_stale()
    (store.corpus_dir / "userdict.dic").write_text("暖企行动 100 n\n", encoding="utf-8")
    assert store.is_stale()
    store.sync()
    assert not store.is_stale()
    assert "暖企行动" in segment("推进暖企行动计划", store.segmenter())
    assert service.search("暖企行动").total == 1


def test_question_words_do_not_decide_a_match(tmp_path):
    _, service = _service(tmp_path, {
        "answer.txt": "肇庆高新区总工会累计筹集爱心助学款694万元，资助学生2082人次。",
        "other.txt": "今天天气很好，大家去公园散步。",
    })
    result = service.search("高新区总工会筹集了多少爱心助学款？")
    assert _sources(result)[0] == "answer.txt"
    assert "other.txt" not in _sources(result)


def test_did_you_mean_offers_the_homophone_that_finds_something(tmp_path):
    _, service = _service(tmp_path, {"a.txt": "劳模精神代代相传，劳动创造幸福。"})
    result = service.search("劳摸")
    assert (result.total, result.suggestion) == (0, "劳模")
    assert service.search("劳模").suggestion is None
    assert service.search("完全无关的词汇").suggestion is None


def test_did_you_mean_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from indexer.cli import cli
    store, _ = _service(tmp_path, {"a.txt": "劳模精神代代相传。"})
    args = ["--corpus", str(store.corpus_dir), "--index", str(store.index_dir), "search", "劳摸"]
    result = CliRunner().invoke(cli, args)
    assert result.stdout == "No passages match 劳摸.\nDid you mean: 劳模\n"
    assert json.loads(CliRunner().invoke(cli, args + ["--json"]).stdout)["suggestion"] == "劳模"


def test_a_question_whose_words_are_not_all_in_one_passage_still_finds_it(tmp_path):
    _, service = _service(tmp_path, {
        "answer.txt": "县总工会今年为职工发放慰问金五十万元。",
        "other.txt": "市里举办篮球比赛。",
    })
    result = service.search("总工会发了多少慰问品？")  # 慰问品 is not in the passage
    assert _sources(result) == ["answer.txt"]
    assert result.relaxed is True
    assert service.search("总工会 慰问品").total == 0  # typed as keywords: AND


def test_questions_rank_the_passage_that_repeats_their_wording_first(tmp_path):
    _, service = _service(tmp_path, {
        "scattered.txt": "职工发展很重要。技能大赛吸引青年。服务园区企业。",
        "answer.txt": "高新区坚持每年举办职工职业技能大赛，服务园区发展。",
    })
    result = service.search("高新区每年举办什么职业技能大赛？")
    assert _sources(result)[0] == "answer.txt"


def test_a_synonym_group_past_the_bound_is_a_one_line_error(tmp_path, monkeypatch):
    # One group of 1,000 words took 7.8 s to load (2,000: 51 s), in every
    # search of every server worker after an edit.
    from click.testing import CliRunner

    from indexer.cli import cli
    from indexer.synonyms import SynonymsError

    group = " ".join(f"词{i}" for i in range(1_000))
    store, service = _service(tmp_path, {"a.txt": "开展职工书屋建设。"},
                              synonyms="书屋 阅览室\n" + group + "\n")
    with pytest.raises(SynonymsError) as raised:
        service.search("书屋")
    assert raised.value.code == "bad_synonyms"
    assert "line 2: a group of 1,000 words; at most 100" in str(raised.value)
    result = CliRunner().invoke(cli, ["--corpus", str(store.corpus_dir), "--index",
                                      str(store.index_dir), "search", "书屋"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and "a group of 1,000 words" in result.output


def test_a_word_in_too_many_synonym_groups_is_refused(tmp_path):
    from indexer.synonyms import SynonymsError

    groups = "".join(f"劳模 别名{i}甲 别名{i}乙\n" for i in range(60))  # 120 synonyms of 劳模
    _, service = _service(tmp_path, {"a.txt": "表彰劳模。"}, synonyms=groups)
    with pytest.raises(SynonymsError, match="劳模 has more than 100 synonyms"):
        service.search("劳模")


def test_an_edited_synonyms_file_is_read_off_the_search_path(tmp_path, monkeypatch):
    # The edited file is read on a thread of its own: while it is being
    # read, searches answer with the groups read before (before the fix the
    # search itself read it; with a 1,200-word group every search of every
    # worker stalled for 37 s).
    import threading
    import time

    from indexer import synonyms as synonyms_module
    from indexer.synonyms import Synonyms

    monkeypatch.setattr(synonyms_module, "WAIT_FOR_EDIT_SECONDS", 0.05)
    store, service = _service(tmp_path, {"a.txt": "开展职工书屋建设。"}, synonyms="书屋 阅览室\n",
                              refresh_seconds=0.0)
    assert _sources(service.search("阅览室")) == ["a.txt"]
    release = threading.Event()
    real_load = Synonyms.load.__func__

    def slow_load(cls, *paths):
        if paths and "图书角" in paths[0].read_text(encoding="utf-8"):
            release.wait(10)  # a read that lasts until the test lets it end
        return real_load(cls, *paths)

    monkeypatch.setattr(Synonyms, "load", classmethod(slow_load))
    (store.corpus_dir / "synonyms.dic").write_text("书屋 阅览室 图书角\n", encoding="utf-8")
    assert service.search("图书角").total == 0  # the edit is still being read
    assert _sources(service.search("阅览室")) == ["a.txt"]
    assert not release.is_set()
    release.set()
    deadline = time.monotonic() + 30  # a guard against a hang, not a speed bound
    while service.search("图书角").total == 0:
        assert time.monotonic() < deadline, "the edited synonyms never counted"
        time.sleep(0.05)
    assert _sources(service.search("图书角")) == ["a.txt"]
