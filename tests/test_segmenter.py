"""Each corpus keeps its own dictionary: no store changes how another is cut."""

from __future__ import annotations

import pytest

from indexer import integrity
from indexer import store as store_module
from indexer.analysis import segment
from indexer.search import SearchService
from indexer.segmenter import DictionaryError
from indexer.store import Store


def _store(tmp_path, name: str, dictionary: str | None = None) -> Store:
    corpus = tmp_path / name / "corpus"
    corpus.mkdir(parents=True)
    (corpus / f"{name}.txt").write_text("县里推进暖企行动计划。", encoding="utf-8")
    if dictionary:
        (corpus / "userdict.dic").write_text(dictionary, encoding="utf-8")
    return Store(corpus, tmp_path / name / "index")


def _lexicon(store: Store) -> set[str]:
    with store.open_index(create=False).searcher() as searcher:
        return {t.decode() for t in searcher.lexicon("content")}


@pytest.mark.slow
@pytest.mark.parametrize("order", ["plain first", "custom first"])
def test_two_stores_with_different_dictionaries_never_meet(tmp_path, order):
    """Whatever the order, each corpus is cut with its own dictionary alone."""
    plain = _store(tmp_path, "plain")
    custom = _store(tmp_path, "custom", "暖企行动 100 n\n")
    for store in ([plain, custom] if order == "plain first" else [custom, plain]):
        store.sync()
    assert "暖企行动" in _lexicon(custom)
    assert {"暖", "企", "行动计划"} <= _lexicon(plain) and "暖企行动" not in _lexicon(plain)
    # Queries are cut as their own index was.
    assert SearchService(custom).compile("暖企行动").words == ["暖企行动"]
    assert SearchService(plain).compile("暖企行动").words == ["暖", "企", "行动"]
    for store in (plain, custom):
        assert not store.is_stale()
        assert integrity.check(store) == []
        assert SearchService(store).search("暖企行动").total == 1
    # Outside any store, the bundled dictionary alone.
    assert segment("推进暖企行动") == ["推进", "暖", "企", "行动"]


@pytest.mark.slow
def test_the_workers_of_a_parallel_commit_cut_with_the_stores_dictionary(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)  # two worker processes
    custom = _store(tmp_path, "custom", "暖企行动 100 n\n")
    custom.sync()
    assert "暖企行动" in _lexicon(custom)


def test_an_unreadable_user_dictionary_is_a_coded_error(tmp_path):
    store = _store(tmp_path, "custom")
    store.user_dictionary.write_bytes("暖企行动 100\n".encode("gbk"))
    with pytest.raises(DictionaryError) as raised:
        store.sync()
    assert raised.value.code == "bad_dictionary" and "UTF-8" in str(raised.value)
