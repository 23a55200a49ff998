"""The array evaluation (indexer.evaluate) gives what Whoosh's own gives.

Whoosh's matchers are the reference: for a hand-written list of queries and a
few hundred generated ones (seeded) — substrings, phrases, exclusions, OR,
questions, sentences, filters, date sort, pages — both evaluations must find
the same passages with the same scores, and the search JSON must be the
same but for the order of passages whose scores differ only in the last
bits. The index has several segments and deletions, as a grown index has.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq
from whoosh import index as whoosh_index
from whoosh import writing

from indexer import arrays_format, evaluate, exclusion, postings
from indexer.docsets import AdjacentWords, AnyTerm
from indexer.search import SearchService, _run
from indexer.store import Store

from . import reference
from .conftest import NEWS_MD, SEED
from .reference import WhooshService

# Sentences of news broadcasts, mixed with the report's into generated days.
NEWS_SENTENCES = [
    "北京冬奥会今天开幕，国家主席习近平出席开幕式",
    "神舟十四号航天员乘组顺利出舱，空间站建造进展顺利",
    "今年全国夏粮总产量再创新高，粮食安全得到保障",
    "各地扎实推进乡村振兴，农民收入持续增加",
    "全国总工会表彰一批全国劳动模范和先进工作者",
    "新能源汽车产销量继续保持增长，出口量大幅上升",
    "疫情防控措施不断优化，核酸检测点有序运行",
    "长江生态保护修复取得明显成效，水质持续改善",
    "一带一路合作项目稳步推进，惠及沿线国家人民",
    "高质量发展迈出坚实步伐，创新驱动作用更加突出",
    "故宫博物院推出新展览，展出文物三百余件",
    "工会组织开展职工技能竞赛，工匠人才不断涌现",
    "爱心托管服务让职工子女暑假有了好去处",
    "志愿者在冬奥会场馆提供服务，展现青春风采",
]


def _sentences(text: str) -> list[str]:
    joined = text.replace("\n", "")
    return [s for s in re.split(r"(?<=[。！？])", joined) if len(s) > 6]


def _day(rng: random.Random, date: str, pool: list[str]) -> str:
    lines = [f"# 《新闻联播》（{date}）", "", "## 详细新闻", ""]
    for story in range(rng.randint(3, 6)):
        lines += [f"### {rng.choice(pool)[:18]}", ""]
        for _ in range(rng.randint(2, 6)):
            lines += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 3))), ""]
    return "\n".join(lines)


def _no_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every commit its own segment, as in a large index that grew over time."""
    commit = writing.SegmentWriter.commit
    monkeypatch.setattr(writing.SegmentWriter, "commit",
                        lambda self, *a, **kw: commit(self, *a, mergetype=writing.NO_MERGE, **kw))


# Whoosh 2.7.4's AndNotMatcher (the matcher of "劳模 -表彰") has two bugs,
# fixed in indexer/exclusion.py, which the engine's Whoosh evaluation uses; the arrays
# never had them. Query trees handed to Whoosh here, not through
# WhooshService, get the same fix.


@pytest.fixture(scope="module", autouse=True)
def fixed_reference():
    from whoosh.matching import binary

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(binary.AndNotMatcher, "_find_first", exclusion.AndNotMatcher._find_first)
        mp.setattr(binary.AndNotMatcher, "skip_to", exclusion.AndNotMatcher.skip_to)
        yield


@pytest.fixture(scope="module")
def three_commits(tmp_path_factory) -> Store:
    """A store over a corpus of three commits, with deletions in older segments."""
    root = tmp_path_factory.mktemp("evaluate")
    corpus = root / "corpus"
    corpus.mkdir()
    rng = random.Random(11)
    pool = _sentences(SEED.read_text(encoding="utf-8")) + NEWS_SENTENCES * 3
    days = [f"2023{m:02d}{d:02d}" for m in range(1, 7) for d in (3, 17)]
    with pytest.MonkeyPatch.context() as mp:
        _no_merge(mp)
        shutil.copy(SEED, corpus / SEED.name)
        (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
        for day in days[:6]:
            (corpus / f"{day}.md").write_text(_day(rng, day, pool), encoding="utf-8")
        store = Store(corpus, root / "index")
        store.sync()
        for day in days[6:]:
            (corpus / f"{day}.md").write_text(_day(rng, day, pool), encoding="utf-8")
        store.sync()
        # Deletions in older segments: one file gone, one rewritten.
        (corpus / f"{days[1]}.md").unlink()
        (corpus / f"{days[2]}.md").write_text(_day(rng, days[2], pool), encoding="utf-8")
        store.sync()
    return store


@pytest.fixture(scope="module", params=["per segment", "merged"])
def engines(request, three_commits):
    """(arrays service, Whoosh service, store): the arrays read segment by
    segment (a one-shot CLI search), or merged into one (a server)."""
    store = three_commits
    evaluate._INDEXES.clear()  # shared by the services of a process
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate, "MERGE_IN_BACKGROUND", False)  # merged before the first search
        arrays = SearchService(store, long_lived=request.param == "merged")
        whoosh = WhooshService(store)
        arrays.search("劳模")
    leaves = evaluate.index_arrays(arrays.searcher(), store.index_dir).leaves
    assert (len(leaves) == 1) == (request.param == "merged")
    return arrays, whoosh, store


HAND_QUERIES = [
    "劳模", "工会", "新", "的", "会", "代表大会", "黎贤花", "贤花", "爱心托管", "托管", "宫",
    "职代会", "工匠人才", "总工会", "五一劳动奖章", "广宁县", "冬奥", "航天员 出舱",
    '"爱心托管服务"', '"劳模精神"', '"全国 劳动模范"', "劳模 -表彰", "劳模 工会 -北京",
    "劳模 OR 工匠", "冬奥 OR 航天 OR 芯片 -北京", "职工 | 志愿者", "乡村振兴 农民 增收",
    "北京冬奥会什么时候开幕？", "神舟十四号的航天员是谁？", "今年全国夏粮产量是多少？",
    "如何推进乡村振兴？", "工会怎样为职工服务", "全县各级工会在县委和上级工会的坚强领导下",
    "奋力谱写了新时代工", "十四次代表大会以来", "勞模", "ＩＢＭ", "25.6", "100 周年",
    "没有这个词语组合", "习近平新时代中国特色社会主义思想", "-劳模", "新 -的 -会",
]

VARIANTS = [
    {}, {"sort": "date"}, {"source": SEED.name}, {"source": "20230515.md"},
    {"date_from": "2023-02-01", "date_to": "2023-04-30"}, {"date_from": "2023-05-15"},
    {"date_to": "2023-03-03", "sort": "date"}, {"page": 2}, {"page": 3, "limit": 5},
    {"group": "article"}, {"group": "article", "sort": "date", "page": 2}, {"scope": "title"},
    {"fold": "same"}, {"fold": "same", "group": "article"}, {"fold": "same", "sort": "date", "page": 2},
    {"fold": "same", "limit": 0, "date_from": "2023-02-01"},
]


def _displayed(hits: list[dict]) -> list[dict]:
    """Hits with each run of equal shown scores in id order: Whoosh orders
    scores that differ in the last bits by its own summation order."""
    out, run = [], []
    for hit in hits + [None]:
        if run and (hit is None or hit["score"] != run[0]["score"] or hit["score"] is None):
            out += sorted(run, key=lambda h: h["id"]) if run[0]["score"] is not None else run
            run = []
        if hit is not None:
            run.append(hit)
    return out


def _same_page(a: list[dict], b: list[dict]) -> bool:
    """Same hits up to ties; a run of equal scores cut by the page end may
    hold different passages of that score."""
    if [h["score"] for h in a] != [h["score"] for h in b]:
        return False
    a, b = _displayed(a), _displayed(b)
    last = a[-1]["score"] if a else None
    keep = [i for i, h in enumerate(a) if h["score"] != last or last is None]
    return [a[i] for i in keep] == [b[i] for i in keep]


def _ranking(service: SearchService, text: str, relaxed: bool, sort: str, **filters):
    """Every match of a query with its raw score, best first, and the total."""
    searcher = service.searcher()
    compiled = service.compile(text) if not relaxed else evaluate_relaxed(service, text)
    results = reference.results(service, searcher, compiled, 1, 0, sort, filters.get("source"),
                                filters.get("date_from"), filters.get("date_to"))
    if results is None:
        return 0, []
    # Neither side may fall back on the other's path unnoticed.
    assert isinstance(results, reference.ArrayResults) != isinstance(service, WhooshService)
    return len(results), [(h.docnum, h.score) for h in results]


def evaluate_relaxed(service: SearchService, text: str):
    from indexer.query import compile_query

    searcher = service.searcher()
    return compile_query(text, service.vocabulary(searcher), service.synonyms, relaxed=True)


def _assert_same(arrays: SearchService, whoosh: SearchService, text: str, variant: dict) -> None:
    a, w = arrays.search(text, **variant).to_json(), whoosh.search(text, **variant).to_json()
    a.pop("took_ms"), w.pop("took_ms")
    context = f"{text!r} {variant}"
    assert a["total"] == w["total"], context
    assert {k: v for k, v in a.items() if k != "hits"} == {k: v for k, v in w.items() if k != "hits"}, context
    assert _same_page(a["hits"], w["hits"]), context
    # Every match, with its unrounded score.
    sort = variant.get("sort", "relevance")
    filters = {k: variant[k] for k in ("source", "date_from", "date_to") if k in variant}
    total_a, ranked_a = _ranking(arrays, text, a["relaxed"], sort, **filters)
    total_w, ranked_w = _ranking(whoosh, text, w["relaxed"], sort, **filters)
    assert total_a == total_w == len(ranked_a) == len(ranked_w), context
    if sort == "date":
        assert [d for d, _ in ranked_a] == [d for d, _ in ranked_w], context
        return
    scores_w = dict(ranked_w)
    assert set(scores_w) == {d for d, _ in ranked_a}, context
    for doc, score in ranked_a:
        assert math.isclose(score, scores_w[doc], rel_tol=1e-9), (context, doc)
    for (_, sa), (_, sw) in zip(ranked_a, ranked_w):
        assert math.isclose(sa, sw, rel_tol=1e-9), context


def test_the_index_has_several_segments_and_deletions(engines):
    """The comparisons below cover merged results and deleted passages."""
    _, _, store = engines
    with store.open_index(create=False).reader() as reader:
        leaves = reader.leaf_readers()
        assert len(leaves) >= 3
        assert any(leaf.has_deletions() for leaf, _ in leaves)


def test_the_comparisons_cover_folded_copies(engines):
    """The generated days share sentences: the fold variants fold copies
    from other days, and leave copies within one day standing."""
    arrays, _, _ = engines
    folded = [t for t in HAND_QUERIES
              if any(h["same"] for h in arrays.search(t, fold="same", limit=0).to_json()["hits"])]
    assert len(folded) >= 10, folded


@pytest.mark.parametrize("text", HAND_QUERIES)
def test_hand_written_queries_give_whooshs_results(engines, text):
    arrays, whoosh, _ = engines
    for variant in VARIANTS:
        _assert_same(arrays, whoosh, text, variant)


def test_the_search_json_is_byte_identical(engines):
    """The JSON of the CLI and the web, took_ms aside, for the hand list."""
    arrays, whoosh, _ = engines
    for text in HAND_QUERIES:
        a, w = arrays.search(text).to_json(), whoosh.search(text).to_json()
        a["took_ms"] = w["took_ms"] = 0
        assert json.dumps(a, ensure_ascii=False) == json.dumps(w, ensure_ascii=False), text


def _generated_queries(service: SearchService, count: int, seed: int) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    searcher = service.searcher()
    words = [w for w in service.vocabulary(searcher).words if re.search(r"[\u4e00-\u9fff]", w)]
    texts = [searcher.stored_fields(n).get("content") or "" for n in range(searcher.doc_count_all())
             if not searcher.ixreader.is_deleted(n)]
    texts = [t for t in texts if len(t) > 12]

    def piece(low: int, high: int) -> str:
        text = rng.choice(texts)
        size = rng.randint(low, high)
        start = rng.randint(0, max(0, len(text) - size))
        return text[start:start + size]

    makers = [
        lambda: rng.choice(words),                                   # a word
        lambda: piece(2, 6),                                         # inside and across words
        lambda: f'"{piece(2, 8)}"',                                  # an exact phrase
        lambda: f"{rng.choice(words)} -{rng.choice(words)}",         # an exclusion
        lambda: f"{rng.choice(words)} OR {rng.choice(words)}",       # either
        lambda: f"{rng.choice(words)} {rng.choice(words)}",          # both
        lambda: f"{piece(2, 4)} {rng.choice(words)} -{piece(1, 2)}",
        lambda: f"{rng.choice(words)}{rng.choice(words)}是什么？",   # a question
        lambda: f"谁{rng.choice(words)}{rng.choice(words)}",
        lambda: piece(13, 26),                                       # a pasted sentence
        lambda: f"{piece(3, 5)}{rng.choice(words)}",                 # nothing, then relaxed
    ]
    sources = sorted(Store.file_records(searcher))
    variants = [{}, {}, {}, {"sort": "date"}, {"page": 2}, {"fold": "same"},
                {"fold": "same", "group": "article", "limit": 0},
                lambda: {"source": rng.choice(sources)},
                lambda: (lambda m: {"date_from": f"2023-0{m}-01",
                                    "date_to": f"2023-0{rng.randint(m, 6)}-28"})(rng.randint(1, 6))]
    queries = []
    for _ in range(count):
        variant = rng.choice(variants)
        queries.append((rng.choice(makers)().strip() or "工会",
                        variant() if callable(variant) else variant))
    return queries


def test_generated_queries_give_whooshs_results(engines):
    arrays, whoosh, _ = engines
    for text, variant in _generated_queries(arrays, 300, seed=5):
        _assert_same(arrays, whoosh, text, variant)


@pytest.mark.slow
def test_more_generated_queries_give_whooshs_results(engines):
    arrays, whoosh, _ = engines
    for text, variant in _generated_queries(arrays, 1500, seed=6):
        _assert_same(arrays, whoosh, text, variant)


def _tree_cases() -> list[wq.Query]:
    t = lambda w, boost=1.0: wq.Term("content", w, boost=boost)  # noqa: E731
    return [
        wq.Not(t("劳模")),
        wq.And([t("工会"), wq.Not(t("劳模"))]),
        wq.Or([t("劳模", 2.5)], boost=7.0),            # one child: Whoosh drops the boost
        wq.Or([t("劳模"), t("工会")], boost=3.0),
        wq.And([t("工会"), t("职工")], boost=0.5),
        wq.And([t("工会"), wq.ConstantScoreQuery(wq.Term("source", SEED.name), 0.0)]),
        wq.And([t("工会"), wq.ConstantScoreQuery(wq.TermRange("date", "2023-02-01", None), 2.5)]),
        wq.And([t("工会"), wq.TermRange("date", "2023-01-03", "2023-05-15", startexcl=True,
                                       endexcl=True)]),
        wq.And([t("工会"), wq.Term("source", "20230515.md", boost=4.0)]),
        wq.AndNot(wq.Or([t("工会"), AnyTerm("content", ["劳模", "职工"], boost=0.3)]),
                  wq.Phrase("content", ["劳模", "精神"])),
        wq.Phrase("content", ["劳动", "精神"], boost=6.0),
        wq.Phrase("content", ["劳模"]),
        wq.Phrase("content", ["工会", "工会"]),
        AdjacentWords("content", [["黎"], ["贤"], ["花"]], boost=0.5),
        AdjacentWords("content", [["县", "全县"], ["总工会", "工会"]]),
        wq.Or([wq.Phrase("content", ["劳模", "精神"]), wq.Phrase("content", ["没有", "这个"])]),
        wq.NullQuery,
    ]


@pytest.mark.parametrize("tree", _tree_cases(), ids=repr)
def test_query_trees_score_as_in_whoosh(engines, tree):
    """Each kind of node, boosts and Whoosh's quirks, against Whoosh itself."""
    arrays, _, _ = engines
    searcher = arrays.searcher()
    index = evaluate.index_arrays(searcher, arrays.store.index_dir)
    for by_date in (False, True):
        mine = reference.search(index, tree, 10_000, by_date)
        theirs = _run(searcher, tree, 10_000, by_date)
        assert mine.total == len(theirs)
        assert mine.docnums == [h.docnum for h in theirs]
        if not by_date:
            for score, hit in zip(mine.scores, theirs):
                assert math.isclose(score, hit.score, rel_tol=1e-12)


def test_an_excluded_word_is_never_in_a_result(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "20230101.txt").write_text("工会表彰会议。\n\n劳模表彰大会。\n\n劳模精神。",
                                         encoding="utf-8")
    (corpus / "20230301.txt").write_text("表彰大会。", encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    service = SearchService(store)
    result = service.search("劳模 -表彰")
    assert [h.text for h in result.hits] == ["劳模精神。"]
    # Whoosh's matcher raised IndexError here (see exclusion.AndNotMatcher.skip_to).
    assert service.search("劳模 -表彰", date_from="2023-02-01").total == 0


def test_a_query_the_arrays_cannot_run_goes_to_whoosh(engines):
    arrays, _, _ = engines
    searcher = arrays.searcher()
    index = evaluate.index_arrays(searcher, arrays.store.index_dir)
    with pytest.raises(evaluate.Unsupported):
        reference.search(index, wq.Prefix("content", "劳"), 10)
    # The service answers it anyway, through Whoosh.
    compiled = arrays.compile("劳模")
    compiled.query = wq.Prefix("content", "劳")
    results = reference.results(arrays, searcher, compiled, 1, 10, "relevance", None, None, None)
    assert len(results) == len(_run(searcher, compiled.query, 10))
    assert len(results) > 0


# -- deletions, damage, clean-up ------------------------------------------------------


def _fresh_process() -> None:
    """Forget the arrays this process mapped, as a new server process would."""
    postings._CACHE.clear()
    evaluate._INDEXES.clear()


def _arrays_files(index_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in index_dir.glob("*" + arrays_format.SUFFIX)}


def test_deleting_and_updating_a_file_is_reflected(tmp_path, monkeypatch):
    _no_merge(monkeypatch)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("劳模精神代代相传。\n\n工会为职工办实事。", encoding="utf-8")
    (corpus / "b.txt").write_text("冬奥会志愿者服务。\n\n劳模走进校园。", encoding="utf-8")
    store = Store(corpus, tmp_path / "index")
    store.sync()
    service = SearchService(store)
    assert service.search("劳模").total == 2
    before = _arrays_files(store.index_dir)
    assert len(before) == 1

    (corpus / "a.txt").write_text("工会为职工办实事。\n\n航天员出舱成功。", encoding="utf-8")
    store.sync()
    service.refresh()
    assert [h.source for h in service.search("劳模").hits] == ["b.txt"]
    assert [h.source for h in service.search("航天员").hits] == ["a.txt"]
    assert service.search("劳模精神").total == 0

    store.remove("b.txt")
    service.refresh()
    assert service.search("劳模").total == 0
    assert service.search("冬奥会").total == 0
    # The first segment's arrays were kept (deletions are applied at query
    # time), not rewritten; the new segment got arrays of its own.
    after = _arrays_files(store.index_dir)
    assert after.items() >= before.items()
    with store.open_index(create=False).reader() as reader:
        live = {arrays_format.file_name(leaf.segment().segment_id()) for leaf, _ in reader.leaf_readers()}
    assert set(after) == live


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "empty", "another index's"])
def test_a_damaged_arrays_file_is_rebuilt(store, tmp_path, damage):
    service = SearchService(store)
    reference = service.search("劳模", limit=0).to_json()
    (path,) = store.index_dir.glob("*" + arrays_format.SUFFIX)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "header":
        data[:8] = b"garbage!"
    elif damage == "empty":
        data = bytearray()
    else:  # intact, but describing another segment
        other = tmp_path / "other"
        other.mkdir()
        (other / "x.txt").write_text("劳模精神。", encoding="utf-8")
        other_store = Store(other, tmp_path / "other-index")
        other_store.sync()
        SearchService(other_store).search("劳模")
        (copy,) = other_store.index_dir.glob("*" + arrays_format.SUFFIX)
        data = bytearray(copy.read_bytes())
    path.write_bytes(bytes(data))
    _fresh_process()
    problems = postings.check(store.open_index(create=False), store.index_dir)
    assert [p.name for p in problems] == [path.name]
    assert "damaged" in problems[0].description
    again = SearchService(store).search("劳模", limit=0).to_json()
    again["took_ms"] = reference["took_ms"]
    assert again == reference
    assert postings.check(store.open_index(create=False), store.index_dir) == []


def test_check_finds_missing_and_orphaned_arrays_and_repairs_them(store):
    SearchService(store).search("劳模")
    (path,) = store.index_dir.glob("*" + arrays_format.SUFFIX)
    orphan = store.index_dir / ("MAIN_zzzzzzzzzzzzzzzz" + arrays_format.SUFFIX)
    shutil.copy(path, orphan)
    path.unlink()
    _fresh_process()
    ix = store.open_index(create=False)
    found = {p.name: p.description for p in postings.check(ix, store.index_dir)}
    assert found.keys() == {path.name, orphan.name}
    assert "missing" in found[path.name] and "gone" in found[orphan.name]
    repaired = postings.check(ix, store.index_dir, repair=True)
    assert all(p.repaired for p in repaired)
    assert path.is_file() and not orphan.exists()
    assert postings.check(ix, store.index_dir) == []


def test_arrays_leave_with_their_segment(tmp_path, monkeypatch):
    """Whoosh's own clean-up deletes the arrays of a segment merged away."""
    _no_merge(monkeypatch)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    store = Store(corpus, tmp_path / "index")
    for i, text in enumerate(["劳模精神。", "工匠精神。", "劳动精神。"]):
        (corpus / f"{i}.txt").write_text(text, encoding="utf-8")
        store.sync()
        SearchService(store).search("精神")
    assert len(_arrays_files(store.index_dir)) == 3
    monkeypatch.undo()
    store.open_index(create=False).optimize()
    assert _arrays_files(store.index_dir) == {}
    _fresh_process()
    assert SearchService(store).search("精神").total == 3
    assert len(_arrays_files(store.index_dir)) == 1
    assert not [p for p in os.listdir(store.index_dir) if p.endswith(".tmp")]


def test_the_vocabulary_index_finds_what_a_scan_finds(engines):
    """After a few queries the vocabulary answers from an index by character."""
    from indexer.vocabulary import Vocabulary

    arrays, _, _ = engines
    words = arrays.vocabulary(arrays.searcher()).words
    scan, indexed = Vocabulary(words), Vocabulary(words)
    scan._scans, indexed._scans = -10**9, 10**9
    rng = random.Random(3)
    probes = [w[i:i + k] for w in rng.sample(words, 200) for i in range(len(w)) for k in (1, 2, 3)]
    for text in probes + ["劳模", "会", "25.6", "ibm", "不在词表里", "模劳"]:
        assert indexed.containing(text) == scan.containing(text), text


def _rewrite_arrays(path: Path, version: int = arrays_format.VERSION, **change: np.ndarray) -> None:
    """Re-encode an arrays file with some arrays changed, in format ``version``
    (a well-formed file, its checksum right)."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    header, body_at = arrays_format._read_header(buf)
    parts = {name: np.array(view) for name, view in arrays_format._views(buf, header, body_at).items()}
    parts.update(change)
    kept = {k: v for k, v in header.items() if k not in ("version", "arrays", "body_size", "crc32")}
    chunks = arrays_format.encode(kept, parts)
    if version != arrays_format.VERSION:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(arrays_format, "VERSION", version)
            chunks = arrays_format.encode(kept, parts)
    arrays_format.write_file(path, chunks)


def test_check_finds_story_fingerprints_that_disagree_with_the_texts(store):
    """A well-formed arrays file whose fingerprints are not its passages' is damaged."""
    SearchService(store).search("劳模")
    (path,) = store.index_dir.glob("*" + arrays_format.SUFFIX)
    arrays = arrays_format.load_file(path)
    assert np.count_nonzero(arrays.fingerprints) > 0
    _rewrite_arrays(path, fingerprints=np.zeros(arrays.doc_count, dtype=np.int64))
    _fresh_process()
    ix = store.open_index(create=False)
    (problem,) = postings.check(ix, store.index_dir)
    assert "fingerprint" in problem.description
    postings.check(ix, store.index_dir, repair=True)
    assert postings.check(ix, store.index_dir) == []
    assert np.count_nonzero(arrays_format.load_file(path).fingerprints) > 0


def test_arrays_of_the_format_before_fingerprints_are_rebuilt(store):
    SearchService(store).search("劳模")
    (path,) = store.index_dir.glob("*" + arrays_format.SUFFIX)
    _rewrite_arrays(path, version=1)
    _fresh_process()
    (problem,) = postings.check(store.open_index(create=False), store.index_dir)
    assert f"version 1, expected {arrays_format.VERSION}" in problem.description
    assert SearchService(store).search("劳模").total > 0
    assert arrays_format.load_file(path).header["version"] == arrays_format.VERSION


def test_a_query_is_tried_relaxed_only_when_that_changes_it(engines):
    """A query that finds nothing is tried again relaxed only when relaxing
    compiles it differently (the shortcut that spares zero-hit words a
    second compilation must never skip a question)."""
    arrays, _, _ = engines
    relaxable = 0
    for text in HAND_QUERIES + ["工会怎样为职工服务？", "劳模 工会 怎样", "劳模怎样"]:
        compiled = arrays.compile(text)
        changes = evaluate_relaxed(arrays, text).query != compiled.query
        assert compiled.relaxable == changes, text
        relaxable += changes
    assert relaxable >= 2


_BUILD = """
import sys
from whoosh import index
from indexer import postings
ix = index.open_dir(sys.argv[1])
postings.build_missing(ix, sys.argv[1], procs=int(sys.argv[2]))
"""


def test_arrays_built_by_processes_at_once_are_those_built_one_by_one(three_commits, tmp_path):
    """Two commands building the missing arrays at the same moment, each with
    two processes, leave every segment's file whole and as one process alone
    builds it (each segment is locked on its own)."""
    import subprocess
    import sys

    folder = tmp_path / "index"
    shutil.copytree(three_commits.index_dir, folder)
    for path in folder.glob("*" + arrays_format.SUFFIX):
        path.unlink()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    runs = [subprocess.Popen([sys.executable, "-c", _BUILD, str(folder), "2"], env=env)
            for _ in range(2)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    built = {p.name: p.read_bytes() for p in folder.glob("*" + arrays_format.SUFFIX)}
    ix = whoosh_index.open_dir(str(folder))
    assert postings.check(ix, folder) == []
    for path in folder.glob("*" + arrays_format.SUFFIX):
        path.unlink()
    subprocess.run([sys.executable, "-c", _BUILD, str(folder), "1"], env=env, check=True)
    alone = {p.name: p.read_bytes() for p in folder.glob("*" + arrays_format.SUFFIX)}
    assert len(alone) >= 3 and built == alone
