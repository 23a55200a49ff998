"""One Generation per commit of the index: what a service reads from it,
with one freshness rule, the searcher's (issue 20, item 3)."""

import threading

from indexer.search import SearchService
from tests.conftest import make_store

FIRST = "# 2023年工会工作报告\n\n2023年1月5日\n\n全市劳模工匠座谈会在工人文化宫召开。\n"
SECOND = "# 2024年科技报告\n\n2024年2月6日\n\n量子计算实验室发布蓍草图谱研究成果。\n"


def _in_another_thread(call):
    found = []
    thread = threading.Thread(target=lambda: found.append(call()))
    thread.start()
    thread.join(timeout=60)
    return found[0]


def test_a_new_commit_gives_a_new_generation_and_an_old_searcher_keeps_its_own(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "20230105.txt").write_text(FIRST, encoding="utf-8")
    store = make_store(corpus, tmp_path / "i")
    service = SearchService(store)

    old_searcher = service.searcher()
    old = service.current()
    assert old.summary(old_searcher).sources == ["20230105.txt"]
    assert "劳模" in service.vocabulary(old_searcher).words
    # One Generation per commit, shared by every thread that reads it.
    assert _in_another_thread(service.current) is old

    (corpus / "20240206.txt").write_text(SECOND, encoding="utf-8")
    store.sync()
    service.refresh()

    new = service.current()
    assert new is not old and new.number > old.number
    assert service.corpus_summary().sources == ["20230105.txt", "20240206.txt"]
    assert service.corpus_summary().files == 2
    assert "量子" in service.vocabulary(service.searcher()).words
    assert service.search("量子").total == 1
    assert _in_another_thread(service.current) is new

    # The searcher still reading the first commit sees it as it was.
    assert service.generation_of(old_searcher) is old
    assert old.summary(old_searcher).sources == ["20230105.txt"]
    assert old.summary(old_searcher).files == 1
    vocab = service.vocabulary(old_searcher)
    assert "劳模" in vocab.words and "量子" not in vocab.words

