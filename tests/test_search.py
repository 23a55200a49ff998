"""Searching: recall of exact strings, the query language, ranking, results."""

import re

import pytest

from indexer.errors import UnknownArticle, UnknownPassage
from indexer.search import QueryError, SearchService
from indexer.store import Store
from indexer.synonyms import Synonyms

from .conftest import SEED

# Words of the bundled report, several of them cut across its lines.
SEED_WORDS = [
    "代表大会", "黎贤花", "爱心托管", "劳模", "工人文化宫", "贤花", "托管", "宫",
    "职代会", "工匠人才", "总工会", "五一劳动奖章", "职工之家", "新就业形态", "彭新启",
    "广宁县", "劳动模范", "创新工作室", "产业工人队伍建设改革", "会以来", "大旺工匠",
]


@pytest.mark.readonly
@pytest.mark.parametrize("text", ["举办各类竞赛活", "县总工会积极争取省", "奋力谱写了新时代工",
                                  "十四次代表大会以来", "黎贤花、省五一劳动奖章获得者朱"])
def test_long_strings_that_begin_and_end_inside_words_are_found(service, seed_text, text):
    expected = seed_text.replace("\n", "").count(text)
    assert expected > 0
    for query in (text, f'"{text}"'):
        hits = service.search(query, limit=0, source=SEED.name).hits
        assert sum(h.text.count(text) for h in hits) == expected, query
    quoted = service.search(f'"{text}"', limit=0, source=SEED.name).hits
    assert all(text in h.text for h in quoted)


@pytest.mark.readonly
@pytest.mark.parametrize("word", SEED_WORDS)
def test_every_occurrence_in_the_report_is_found(service, seed_text, word):
    expected = seed_text.replace("\n", "").count(word)
    assert expected > 0
    result = service.search(word, limit=0, source=SEED.name)
    found = sum(hit.text.count(word) for hit in result.hits)
    assert found == expected
    assert result.total == len(result.hits)
    forms = [word, *Synonyms.load().of(word)]
    for hit in result.hits:
        marked = re.findall(r"<mark>(.*?)</mark>", hit.highlight)
        assert any(form in m for m in marked for form in forms), hit.highlight


def _corpus(tmp_path, files: dict[str, str]) -> SearchService:
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    store = Store(corpus, tmp_path / "i")
    store.sync()
    return SearchService(store)


def _sources(result) -> list[str]:
    return [h.source for h in result.hits]


def test_word_matches_rank_above_matches_inside_other_words(tmp_path):
    service = _corpus(tmp_path, {"inside.txt": "他们开办爱心托管班。",
                                 "word.txt": "托管服务很好。"})
    assert _sources(service.search("托管")) == ["word.txt", "inside.txt"]


@pytest.mark.readonly
def test_quoted_phrase_matches_adjacent_text_only(service):
    assert service.search('"爱心托管服务"').total == 1
    assert service.search('"服务爱心托管"').total == 0
    assert service.search("服务 爱心托管").total >= 1


def test_phrase_does_not_match_across_punctuation(tmp_path):
    service = _corpus(tmp_path, {"a.txt": "召开代表大会，以来宾为主。", "b.txt": "代表大会以来成绩显著。"})
    assert _sources(service.search('"大会以来"')) == ["b.txt"]


def test_unquoted_multiword_query_ranks_the_adjacent_phrase_first(tmp_path):
    service = _corpus(tmp_path, {
        "apart.txt": "培训是一项工作，技能是一种本领。",
        "together.txt": "暑期开展技能培训活动。",
    })
    assert _sources(service.search("技能培训")) == ["together.txt", "apart.txt"]


@pytest.mark.readonly
def test_all_terms_must_occur(service):
    both = service.search("劳模 黎贤花")
    assert both.total == 1
    assert "黎贤花" in both.hits[0].text and "劳模" in both.hits[0].text
    assert service.search("劳模 不存在的词语").total == 0


@pytest.mark.readonly
def test_minus_excludes_and_or_widens(service):
    with_word = service.search("劳模", limit=0, source=SEED.name)
    without = service.search("劳模 -宣讲", limit=0, source=SEED.name)
    assert without.total == with_word.total - 1
    assert not any("宣讲" in h.text for h in without.hits)
    either = service.search("黎贤花 OR 大旺工匠", limit=0)
    assert either.total == 2


def test_normalisation_applies_to_queries(tmp_path):
    service = _corpus(tmp_path, {"n.txt": "2023年IBM与劳模座谈。"})
    for query in ["勞模", "２０２３", "ＩＢＭ", "ibm", "IBM"]:
        assert service.search(query).total == 1, query
    assert "<mark>勞模</mark>" not in service.search("勞模").hits[0].highlight
    assert "<mark>劳模</mark>" in service.search("勞模").hits[0].highlight


def test_traditional_documents_are_found_by_simplified_queries(tmp_path):
    service = _corpus(tmp_path, {"t.txt": "全國勞動模範黎賢花。"})
    hit = service.search("劳动模范").hits[0]
    assert hit.highlight == "全國<mark>勞動模範</mark>黎賢花。"


@pytest.mark.readonly
@pytest.mark.parametrize("query", [
    '"爱心', '爱心"', "AND", "OR", "*", "?", "(", ")", "[", "]", "{", ":", "^", "~", "+", "-",
    "劳模 AND", "OR 劳模", "content:劳模", "劳模*", '""', "\\", "劳模" * 5000, "\x00\x01劳模",
])
def test_any_input_gives_results_or_nothing_never_an_error(service, query):
    result = service.search(query)
    assert result.total >= 0
    assert isinstance(result.hits, list)


@pytest.mark.readonly
@pytest.mark.parametrize("kwargs, message", [
    ({"text": ""}, "empty"), ({"text": "   "}, "empty"),
    ({"text": "劳模", "page": 0}, "page"), ({"text": "劳模", "limit": -1}, "limit"),
])
def test_bad_requests_raise_a_clear_query_error(service, kwargs, message):
    with pytest.raises(QueryError, match=message):
        service.search(**kwargs)


@pytest.mark.readonly
def test_results_have_the_documented_json_shape(service):
    result = service.search("劳模", limit=1).to_json()
    assert list(result) == ["query", "total", "page", "limit", "took_ms", "hits",
                            "suggestion", "relaxed", "facets", "grouped"]
    assert (result["query"], result["page"], result["limit"]) == ("劳模", 1, 1)
    hit = result["hits"][0]
    assert list(hit) == ["id", "source", "title", "section", "date", "paragraph", "score",
                         "text", "highlight", "kind", "article", "page", "text_truncated"]
    assert isinstance(hit["paragraph"], int) and isinstance(hit["score"], float)


@pytest.mark.readonly
def test_pages_and_limit_zero(service):
    everything = service.search("工会", limit=0)
    assert everything.total == len(everything.hits) > 3
    page1 = service.search("工会", page=1, limit=2)
    page2 = service.search("工会", page=2, limit=2)
    ids = [h.id for h in page1.hits + page2.hits]
    assert ids == [h.id for h in everything.hits[:4]]
    assert service.search("工会", page=10**9).hits == []


def test_highlight_escapes_document_text_and_marks_only_matches(tmp_path):
    service = _corpus(tmp_path, {"h.txt": "<script>alert(1)</script>劳模&工匠。"})
    highlight = service.search("劳模").hits[0].highlight
    assert highlight == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>劳模</mark>&amp;工匠。"


@pytest.mark.readonly
def test_long_passages_are_cut_to_the_sentences_around_the_match(service):
    hit = service.search("黎贤花").hits[0]
    assert len(hit.text) > 300
    fragment = re.sub(r"</?mark>", "", hit.highlight).strip("…")
    assert "黎贤花" in fragment and len(fragment) < len(hit.text) / 2
    assert fragment.endswith("。")


FILLER = "会议还听取了其他方面的情况汇报，并对下一步工作作出安排。" * 6


def test_a_snippet_shows_every_query_word_the_passage_holds(tmp_path):
    service = _corpus(tmp_path, {"a.txt": "县总工会召开全委会议。" + FILLER + "会上表彰了十名劳模。"})
    hit = service.search("总工会 劳模").hits[0]
    assert len(hit.text) > 180
    marked = re.findall(r"<mark>(.*?)</mark>", hit.highlight)
    assert "总工会" in marked and "劳模" in marked
    assert "…" in re.sub(r"</?mark>", "", hit.highlight).strip("…"), "two fragments, not one"


def test_a_question_shows_its_answer_sentence_and_no_lone_characters(tmp_path):
    service = _corpus(tmp_path, {"a.txt": "高新区总工会今年开展了多项活动。" + FILLER
                                 + "高新区总工会共筹集爱心助学款三十万元，资助学生一百名。"})
    hit = service.search("高新区总工会筹集了多少爱心助学款？").hits[0]
    shown = re.sub(r"</?mark>", "", hit.highlight)
    assert "共筹集爱心助学款三十万元" in shown
    assert all(len(m) > 1 for m in re.findall(r"<mark>(.*?)</mark>", hit.highlight))


@pytest.mark.readonly
def test_hits_carry_source_article_and_date(service):
    hit = service.search("故宫博物院").hits[0]
    assert (hit.source, hit.title, hit.date) == (
        "20230515.md", "故宫博物院推出新展览", "2023-05-15")
    article = service.article(hit.article, "故宫")
    assert [p.kind for p in article.passages] == ["title", "body"]
    assert "<mark>故宫</mark>" in article.passages[1].html


def test_an_unknown_article_or_passage_is_a_named_error_not_none(service):
    # The library words the refusal once; the web and the CLI only render it.
    with pytest.raises(UnknownArticle) as article:
        service.article("nope-1", "故宫")
    assert (article.value.code, article.value.status) == ("unknown_article", 404)
    with pytest.raises(UnknownPassage) as passage:
        service.explain("故宫", "nope-1-1")
    assert (passage.value.code, passage.value.status) == ("unknown_passage", 404)


@pytest.mark.readonly
def test_filters_by_source_and_date(service):
    assert set(_sources(service.search("劳动模范", limit=0, source="20230515.md"))) == {"20230515.md"}
    dated = service.search("劳模", limit=0, date_from="2023-01-01", date_to="2023-12-31")
    assert set(_sources(dated)) == {"20230515.md"}


@pytest.mark.readonly
def test_an_unknown_source_is_an_error_not_an_empty_result(service):
    with pytest.raises(QueryError) as raised:
        service.search("劳模", source="nope.txt")
    assert raised.value.code == "unknown_source"


@pytest.mark.readonly
def test_totals_count_only_what_the_filters_let_through(service):
    assert service.search("劳模", date_from="2099-01-01").total == 0
    limited = service.search("劳模", limit=1, source="20230515.md")
    assert limited.total == len(service.search("劳模", limit=0, source="20230515.md").hits)


@pytest.mark.readonly
def test_sort_by_date_puts_dated_reports_first(service):
    result = service.search("劳模", sort="date", limit=0)
    assert result.hits[0].date == "2023-05-15"
    assert all(h.score is None for h in result.hits)


def test_total_does_not_depend_on_the_page_size(tmp_path):
    """Whoosh drops sub-queries that cannot reach the top N; the total must not."""
    files = {f"a{n:02}.txt": "托管服务很好。" for n in range(15)}
    files.update({f"z{n}.txt": "开办爱心托管班。" for n in range(3)})
    service = _corpus(tmp_path, files)
    assert [service.search("托管", limit=n).total for n in (0, 1, 2)] == [18, 18, 18]


@pytest.mark.readonly
def test_repeated_and_excess_terms_are_dropped_not_searched(service):
    """300 copies of one word took 30 s in Whoosh's nested ANDs."""
    from indexer.query import MAX_TERMS, parse_query
    assert parse_query("新 " * 300) == parse_query("新")
    assert len(parse_query(" ".join(f"词{n}" for n in range(300)))) == MAX_TERMS
    assert service.search("宫 " * 300).total == service.search("宫").total


@pytest.mark.readonly
def test_explain_says_which_rule_matched_each_term(service):
    hit = service.search("贤花").hits[0]
    why = service.explain("贤花 劳模", hit.id)
    # jieba's dictionary cuts the name 黎|贤|花, and the query 贤花 as 贤|花: the
    # passage holds the query's words, adjacent.
    rules = {t.term: (t.rule, t.matched) for t in why.terms}
    assert rules["贤花"] == ("word", ["贤", "花"]) and "黎贤花" not in why.passage_words
    # A passage that says only 劳动模范 matches 劳模 through the synonym; one
    # that says 劳模 matches the word itself, even when it says both.
    hits = service.search("劳动模范", limit=0).hits
    only_long = next(h for h in hits if "劳模" not in h.text)
    assert [(t.rule, t.via) for t in service.explain("劳模", only_long.id).terms] == [
        ("synonym", "劳动模范")]
    both = next(h for h in hits if "劳模" in h.text)
    assert [(t.rule, t.via) for t in service.explain("劳模", both.id).terms] == [("word", None)]
    with pytest.raises(UnknownPassage) as refused:
        service.explain("劳模", "no-such-id")
    assert refused.value.code == "unknown_passage" and refused.value.status == 404


@pytest.mark.readonly
def test_facets_count_every_match_by_year_and_source(service):
    result = service.search("劳模", limit=1)
    facets = result.facets
    assert sum(facets["year"].values()) == sum(facets["source"].values()) == result.total
    assert facets["year"]["2023"] == service.search("劳模", limit=0, date_from="2023-01-01",
                                                     date_to="2023-12-31").total
    assert facets["source"][SEED.name] == service.search("劳模", limit=0, source=SEED.name).total
    assert facets["year"]["undated"] == facets["source"][SEED.name]  # the report has no date


@pytest.mark.readonly
def test_grouping_gives_one_hit_per_article_with_the_rest_counted(service):
    every = service.search("职工", limit=0)
    grouped = service.search("职工", limit=0, group="article")
    articles = {h.article for h in every.hits}
    assert grouped.total == len(grouped.hits) == len(articles) < every.total
    assert [h.article for h in grouped.hits] == list(dict.fromkeys(h.article for h in every.hits))
    assert sum(h.more + 1 for h in grouped.hits) == every.total == grouped.passages
    assert sum(grouped.facets["source"].values()) == grouped.total
    data = grouped.to_json()
    assert data["grouped"] == "article" and all("more" in h for h in data["hits"])
    assert "more" not in every.to_json()["hits"][0] and every.to_json()["grouped"] is None


@pytest.mark.readonly
def test_in_title_matches_article_titles_only(service):
    titles = service.search("工会", limit=0, scope="title")
    assert titles.total > 0 and {h.kind for h in titles.hits} == {"title"}
    assert titles.total < service.search("工会", limit=0).total


def test_a_search_request_is_typed_and_checked_when_made(service):
    from dataclasses import FrozenInstanceError

    from indexer.request import Fold, Group, Scope, SearchRequest, Sort

    request = SearchRequest.of("职工", limit=0, sort="date", group="article", fold="same", scope="all")
    assert (request.sort, request.group, request.fold, request.scope) == (
        Sort.DATE, Group.ARTICLE, Fold.SAME, Scope.ALL)
    with pytest.raises(FrozenInstanceError):
        request.page = 2  # type: ignore[misc]
    # The web's values for "none" are members too: no sentinel to translate.
    assert SearchRequest.of("职工", group="passage", fold="none") == SearchRequest("职工")
    for field, value, code in (("sort", "newest", "bad_sort"), ("group", "paragraph", "bad_group"),
                               ("fold", "all", "bad_fold"), ("scope", "body", "bad_scope")):
        with pytest.raises(QueryError) as raised:
            SearchRequest.of("职工", **{field: value})
        assert raised.value.code == code
    assert service.search(request).to_json()["hits"] == service.search(
        "职工", limit=0, sort="date", group="article", fold="same").to_json()["hits"]


@pytest.mark.readonly
def test_unknown_group_or_scope_is_a_query_error(service):
    with pytest.raises(QueryError) as raised:
        service.search("工会", group="paragraph")
    assert raised.value.code == "bad_group"
    with pytest.raises(QueryError) as raised:
        service.search("工会", scope="body")
    assert raised.value.code == "bad_scope"
