"""Text that looks the same is found the same (issue 19): characters that show
nothing, radicals that look like ideographs, query syntax typed full width."""

from __future__ import annotations

import json
import re

import pytest

from indexer.search import SearchService
from indexer.store import Store

HIDDEN = {
    "a.txt": "县总工会表彰劳\u200b模十人。",
    "b.txt": "开展爱\u200d心\u2060托管服务。",
    "c.txt": "工\u202e会主席讲话。",
    "d.txt": "五一前夕慰问劳\ufeff模。",
    "e.txt": "⾦牌工匠讲述成长经历。",  # U+2FA6 KANGXI RADICAL GOLD
    "f.txt": "劳模精神代代相传。",
}


@pytest.fixture
def hidden(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in HIDDEN.items():
        (corpus / name).write_text(text, encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    return SearchService(store)


# The characters of HIDDEN that show nothing.
INVISIBLE = re.compile("[\u200b\u200d\u2060\u202e\ufeff]")


def _sources(result) -> list[str]:
    return sorted(hit.source for hit in result.hits)


def test_characters_that_show_nothing_never_hide_a_word(hidden):
    assert _sources(hidden.search("劳模")) == ["a.txt", "d.txt", "f.txt"]
    assert _sources(hidden.search("爱心托管")) == ["b.txt"]
    assert _sources(hidden.search("工会主席")) == ["c.txt"]
    assert _sources(hidden.search('"工会主席"')) == ["c.txt"]


def test_a_query_with_characters_that_show_nothing_is_the_query_without_them(hidden):
    """The same hits, in the same order, with the same words highlighted."""
    for typed, plain in [("劳\u200b模", "劳模"), ('"劳\u200b模精神"', '"劳模精神"'),
                         ("工\u202e会主席", "工会主席"), ("爱\u200d心\u2060托管", "爱心托管")]:
        found = [(hit.source, hit.snippet.spans) for hit in hidden.search(typed).hits]
        assert found == [(hit.source, hit.snippet.spans) for hit in hidden.search(plain).hits]
        assert found, plain


def test_hits_never_carry_a_bidi_control_or_a_zero_width_character(hidden):
    hits = [hit for q in ("劳模", "爱心托管", "工会主席") for hit in hidden.search(q).hits]
    assert sorted(hit.source for hit in hits) == ["a.txt", "b.txt", "c.txt", "d.txt", "f.txt"]
    shown = json.dumps([[hit.text, hit.title, hit.section] for hit in hits], ensure_ascii=False)
    assert not INVISIBLE.search(shown), shown
    assert "工会主席讲话。" in shown


def test_a_kangxi_radical_is_found_as_its_ideograph(hidden):
    assert _sources(hidden.search("金牌")) == ["e.txt"]
    assert _sources(hidden.search("⾦牌")) == ["e.txt"]


@pytest.mark.readonly
def test_full_width_query_syntax_works_as_typed_in_ascii(service):
    """What a Chinese input method types: ＂ ＯＲ －, and “” 「」 as quotes."""
    def total(query: str) -> int:
        return service.search(query).total

    either = total('"劳模" OR 职工')
    assert either > total("职工") > 0
    assert total("＂劳模＂ ＯＲ 职工") == either
    assert total("「劳模」 ＯＲ 职工") == either
    assert total("劳模 －表彰") == total("劳模 -表彰") < total("劳模")
    assert total("“爱心托管”") == total('"爱心托管"') > 0


def test_an_index_built_with_the_old_normalisation_is_rebuilt(tmp_path, monkeypatch):
    """The analysis version is part of the index's fingerprint: an index built
    before (version 2) holds 劳\\u200b模 as two words, and is rebuilt."""
    import indexer.store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(HIDDEN["a.txt"], encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    monkeypatch.setattr(indexer.store, "SCHEMA_VERSION", 2)
    store.sync()
    assert not store.is_stale()
    monkeypatch.undo()
    assert store.is_stale()
    report = store.sync()
    assert [(o.name, o.status) for o in report.outcomes] == [("a.txt", "added")]
    assert _sources(SearchService(store).search("劳模")) == ["a.txt"]
