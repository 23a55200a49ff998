"""Segmenters: rjieba cuts exactly as jieba, and each corpus keeps its own dictionary."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections import OrderedDict

import jieba
import pytest
import rjieba

from indexer import integrity
from indexer import segmenter as segmenter_module
from indexer import store as store_module
from indexer.analysis import _RUNS, iter_words, segment
from indexer.normalize import normalize_text
from indexer.search import SearchService
from indexer.segmenter import (BUNDLED_DICTIONARY, USER_LINE, Dictionary, DictionaryError,
                               JiebaSegmenter, RjiebaSegmenter, segmenter_for)
from indexer.store import Store
from tests.conftest import NEWS_MD, SEED

jieba.setLogLevel(logging.WARNING)

RUNS = re.findall("[\u4e00-\u9fd5]+", SEED.read_text(encoding="utf-8") + NEWS_MD)


def _jieba(*dictionaries: bytes) -> jieba.Tokenizer:
    """jieba as its README uses it: its dictionary, then load_userdict."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for data in (BUNDLED_DICTIONARY.read_bytes(), *dictionaries):
        tokenizer.load_userdict(io.BytesIO(data))
    return tokenizer


@pytest.fixture(scope="module")
def bundled_jieba() -> jieba.Tokenizer:
    return _jieba()


def _naive_rjieba(*dictionaries: bytes) -> rjieba.Jieba:
    """rjieba told only what each line says, as one would load it by hand."""
    naive = rjieba.Jieba()
    for data in (BUNDLED_DICTIONARY.read_bytes(), *dictionaries):
        for line in data.decode().splitlines():
            if line.strip():
                word, freq, _ = USER_LINE.match(line.strip()).groups()
                naive.add_word(word, int(freq) if freq else None, None)
    return naive


def _differences(cut, reference: jieba.Tokenizer, runs: list[str]) -> list[str]:
    return [run for run in runs if cut(run) != list(reference.cut(run, HMM=False))]


def _ours(*dictionaries: bytes):
    extra = [Dictionary(f"user{i}.dic", data) for i, data in enumerate(dictionaries)]
    segmenter = segmenter_for([BUNDLED_DICTIONARY, *extra], backend="rjieba")
    assert isinstance(segmenter, RjiebaSegmenter)
    return segmenter


def test_user_lines_are_read_with_jiebas_own_pattern():
    assert USER_LINE.pattern == jieba.re_userdict.pattern
    assert list(Dictionary("u", "\ufeff劳模 2000 n\n\n  工匠人才\r\n新 业态 5\n".encode()).words()) \
        == [("劳模", 2000), ("工匠人才", None), ("新 业态", 5)]


def test_rjiebas_builtin_dictionary_holds_every_word_of_jiebas():
    builtin = rjieba.Jieba()
    with jieba.Tokenizer().get_dict_file() as dict_txt:
        words = [line.decode().split(" ", 1)[0] for line in dict_txt if line.strip()]
    assert len(words) == 349_046
    assert [w for w in words if not builtin.has_word(w)] == []


@pytest.mark.slow
def test_rjieba_cuts_the_bundled_report_as_jieba_does(bundled_jieba):
    assert len(RUNS) > 400
    assert _differences(_ours().cut, bundled_jieba, RUNS) == []


@pytest.mark.slow
def test_a_word_without_frequency_gets_jiebas_not_rjiebas():
    # 囍 only starts words in jieba's dictionary: jieba gives it frequency 1
    # where rjieba would suggest 2, which decides how 甲乙囍 is cut here.
    dictionary = "甲乙 47330\n乙囍 15\n囍\n".encode()
    reference = _jieba(dictionary)
    assert reference.FREQ["囍"] == 1
    assert list(reference.cut("甲乙囍", HMM=False)) == ["甲", "乙囍"]
    assert _naive_rjieba(dictionary).cut("甲乙囍", False) == ["甲乙", "囍"]
    assert _ours(dictionary).cut("甲乙囍") == ["甲", "乙囍"]


@pytest.mark.slow
def test_a_user_dictionary_with_and_without_frequencies_cuts_as_jieba():
    dictionary = "暖企行动\n县总工会 800 nt\n技能培训\n疗休养 50\n爱心托管班\n".encode()
    assert _differences(_ours(dictionary).cut, _jieba(dictionary), RUNS) == []


@pytest.mark.slow
def test_re_weighted_words_keep_jiebas_total(bundled_jieba):
    # jieba adds a re-weighted word's frequency to its total, rjieba swaps it:
    # the total weighs every cut, so rjieba must carry the difference.
    freq = bundled_jieba.FREQ
    common = sorted((w for w in freq if len(w) == 1), key=freq.get)[-50:]
    dictionary = "".join(f"{word} 1\n" for word in common).encode()
    reference = _jieba(dictionary)
    naive = _naive_rjieba(dictionary)
    assert _differences(lambda run: naive.cut(run, False), reference, RUNS)
    assert _differences(_ours(dictionary).cut, reference, RUNS) == []


@pytest.mark.slow
def test_what_rjieba_cannot_hold_is_cut_by_jieba():
    # A word of jieba's dictionary at frequency 0 is never cut out by jieba;
    # rjieba cannot forget it.
    dictionary = Dictionary("userdict.dic", "劳动 0\n".encode())
    segmenter = segmenter_for([BUNDLED_DICTIONARY, dictionary], backend="rjieba")
    assert isinstance(segmenter, JiebaSegmenter)
    assert segmenter.cut("劳动") == list(_jieba(dictionary.data).cut("劳动", HMM=False))


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


@pytest.mark.slow
def test_the_index_records_which_backend_cut_it(tmp_path, monkeypatch):
    store = _store(tmp_path, "plain")
    store.sync()
    assert store.segmenter().backend == "rjieba"
    assert not store.is_stale()
    monkeypatch.setitem(sys.modules, "rjieba", None)  # not importable: jieba instead
    assert store.segmenter().backend == "jieba"
    assert store.is_stale()
    store.sync()
    assert not store.is_stale() and integrity.check(store) == []
    assert SearchService(store).search("行动计划").total == 1


@pytest.mark.slow
def test_a_recipe_is_kept_beside_the_index_and_a_damaged_one_recomputed(tmp_path):
    store = _store(tmp_path, "custom", "暖企行动\n")
    store.sync()
    recipe = store.index_dir / "segmenter.json"
    assert recipe.is_file()
    recipe.write_text("{not json", encoding="utf-8")
    # Another dictionary content: not in this process's cache, so read from disk.
    (store.corpus_dir / "userdict.dic").write_text("暖企行动\n县总工会\n", encoding="utf-8")
    assert store.segmenter().cut("推进暖企行动") == ["推进", "暖企行动"]
    assert '"key"' in recipe.read_text(encoding="utf-8")


def test_a_new_index_takes_the_recipe_from_the_users_cache(tmp_path, monkeypatch):
    """A second index over the same dictionaries does not load jieba again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())
    first = _store(tmp_path / "a", "custom", "暖企行动\n")
    first.sync()
    kept = list((tmp_path / "cache" / "zhsearch" / "recipes").glob("*/segmenter.json"))
    assert len(kept) == 1

    def no_jieba(*args, **kwargs):
        raise AssertionError("the recipe was computed again")

    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())
    monkeypatch.setattr(segmenter_module, "compute_recipe", no_jieba)
    second = _store(tmp_path / "b", "custom", "暖企行动\n")
    second.sync()
    assert (second.index_dir / "segmenter.json").read_bytes() == kept[0].read_bytes()
    assert SearchService(second).search("暖企行动").total >= 1


def test_an_unreadable_user_dictionary_is_a_coded_error(tmp_path):
    store = _store(tmp_path, "custom")
    store.user_dictionary.write_bytes("暖企行动 100\n".encode("gbk"))
    with pytest.raises(DictionaryError) as raised:
        store.sync()
    assert raised.value.code == "bad_dictionary" and "UTF-8" in str(raised.value)


@pytest.mark.parametrize("line, says", [
    # jieba keeps every prefix of a word: 60,000 characters took 3.7 GB
    # (5,000 here: enough to be refused, small enough to pass before the bound).
    ("暖" * 5_000 + " 10 n", "line 2: a word of 5,000 characters; at most 64"),
    # int() of 5,000 digits raised ValueError, a traceback.
    ("暖企行动 " + "9" * 5_000, "line 2: a frequency of 5,000 digits; at most 15"),
])
def test_a_user_dictionary_line_past_the_bounds_is_a_one_line_error(tmp_path, zhsearch, corpus_dir,
                                                                     line, says):
    store = _store(tmp_path, "custom", "劳动模范 5\n" + line + "\n")
    with pytest.raises(DictionaryError) as raised:
        store.sync()
    assert raised.value.code == "bad_dictionary" and says in str(raised.value)
    # The command line says so in one line, the index untouched.
    (corpus_dir / "userdict.dic").write_text("劳动模范 5\n" + line + "\n", encoding="utf-8")
    result = zhsearch("search", "劳模")
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert result.output.strip().count("\n") == 0 and says in result.output


def test_a_user_dictionary_of_too_many_lines_is_refused(tmp_path):
    store = _store(tmp_path, "custom", "暖\n" * (segmenter_module.MAX_DICTIONARY_LINES + 1))
    with pytest.raises(DictionaryError) as raised:
        store.sync()
    assert raised.value.code == "bad_dictionary" and "lines" in str(raised.value)


@pytest.mark.slow
def test_check_recomputes_a_recipe_that_lies_and_the_index_is_rebuilt(tmp_path, monkeypatch):
    store = _store(tmp_path, "custom", "暖企行动\n")
    store.sync()
    recipe_file = store.index_dir / "segmenter.json"
    recipe = json.loads(recipe_file.read_text(encoding="utf-8"))
    right_offset = recipe["total_offset"]
    recipe["total_offset"] += 7
    recipe_file.write_text(json.dumps(recipe, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())  # a new process
    store.sync(rebuild=True)  # cut with the wrong numbers
    assert integrity.check(store) == []  # what `zhsearch index` runs: not recomputed
    problems = integrity.check(store, deep=True)  # `zhsearch check`
    assert [p.source for p in problems] == ["segmenter.json"]
    assert json.loads(recipe_file.read_text(encoding="utf-8"))["total_offset"] == right_offset
    assert store.is_stale()
    integrity.repair(store, problems)
    assert not store.is_stale() and integrity.check(store, deep=True) == []


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_a_passage_cut_in_one_call_gives_the_words_of_its_runs_cut_one_by_one(backend):
    segmenter = segmenter_for([BUNDLED_DICTIONARY], backend=backend)
    text = normalize_text(SEED.read_text(encoding="utf-8") + NEWS_MD)
    one_by_one = []
    for match in _RUNS.finditer(text):
        if match.lastgroup == "han":
            one_by_one.extend(segmenter.cut(match.group()))
        elif match.lastgroup in ("word", "char"):
            one_by_one.append(match.group())
    assert len(one_by_one) > 1000
    assert [w for w, _, _, _ in iter_words(text, segmenter)] == one_by_one


def _one_command(store: Store) -> Store:
    """The same corpus and index, as a new ``zhsearch`` process opens them."""
    return Store(store.corpus_dir, store.index_dir, one_command=True)


def test_a_cold_search_cuts_the_query_from_the_lexicon_as_the_whole_dictionary(
        tmp_path, monkeypatch):
    """A one-command process reads the lexicon kept beside the index instead of
    building rjieba's whole dictionary, and cuts every run as that would."""
    # A re-weighted word of jieba's, a new word, a word without a frequency.
    store = _store(tmp_path, "custom", "暖企行动 100 n\n劳模 3\n职工书屋\n")
    store.sync()
    whole = store.segmenter()
    assert isinstance(whole, RjiebaSegmenter)
    assert (store.index_dir / segmenter_module.LEXICON_FILE).is_file()
    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())  # a new process
    quick = _one_command(store).segmenter()
    assert isinstance(quick, segmenter_module.LexiconSegmenter)
    assert quick.fingerprint == whole.fingerprint
    assert not segmenter_module._segmenters  # the whole dictionary was not built
    runs = [*RUNS, "推进暖企行动计划", "全国劳模职工书屋"]
    assert [quick.cut(run) for run in runs] == [whole.cut(run) for run in runs]
    assert quick.cut_runs(runs[:40]) == whole.cut_runs(runs[:40])
    long = "".join(RUNS)[:segmenter_module.LEXICON_MAX_CHARS + 1]  # cut by the whole one
    assert quick.cut(long) == whole.cut(long)
    cold = _one_command(store)
    assert not cold.is_stale()
    assert SearchService(cold, long_lived=False).search("暖企行动").total == 1


def test_a_damaged_lexicon_is_never_read_and_check_writes_it_anew(tmp_path, monkeypatch):
    store = _store(tmp_path, "plain")
    store.sync()
    path = store.index_dir / segmenter_module.LEXICON_FILE
    right = path.read_bytes()
    damaged = bytearray(right)
    damaged[-3] ^= 1  # one bit of one word
    path.write_bytes(bytes(damaged))
    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())
    assert isinstance(_one_command(store).segmenter(), RjiebaSegmenter)  # the whole one
    problems = integrity.check(store)  # what `zhsearch index` runs: found by its checksum
    assert [p.source for p in problems] == [segmenter_module.LEXICON_FILE]
    assert path.read_bytes() == right
    assert integrity.check(store) == []


def test_a_lexicon_with_numbers_no_jieba_gives_never_reaches_rjieba(tmp_path, monkeypatch):
    """Whole by its CRC but made by hand: a frequency of -5 for 劳模 would make
    rjieba raise (or cut wrongly); the query is cut by the whole dictionary."""
    import array

    store = _store(tmp_path, "plain")
    store.sync()
    whole = store.segmenter()
    path = store.index_dir / segmenter_module.LEXICON_FILE
    recipe = segmenter_module._load_recipe(whole.key, store.index_dir)
    kept = segmenter_module.Lexicon.from_bytes(path.read_bytes(), whole.key, recipe)
    assert kept is not None and kept.words_in("劳模")["劳模"] > 0
    freqs = array.array("q", kept.freqs)
    index = next(i for i in range(len(freqs)) if kept._word(i) == "劳模".encode())
    freqs[index] = -5
    forged = segmenter_module.Lexicon(kept.key, kept.recipe, kept.total, kept.offsets, freqs,
                                      kept.blob)
    path.write_bytes(forged.to_bytes())
    monkeypatch.setattr(segmenter_module, "_segmenters", OrderedDict())
    quick = _one_command(store).segmenter()
    assert isinstance(quick, segmenter_module.LexiconSegmenter)
    assert quick.cut("弘扬劳模精神") == whole.cut("弘扬劳模精神")
    # Whole by its checksum: `zhsearch index` takes it as it is, `zhsearch
    # check` recomputes it and writes it anew.
    integrity.check(store)
    assert path.read_bytes() == forged.to_bytes()
    integrity.check(store, deep=True)
    assert segmenter_module.Lexicon.from_bytes(path.read_bytes(), whole.key, recipe).words_in(
        "劳模")["劳模"] > 0
