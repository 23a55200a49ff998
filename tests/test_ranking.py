"""Ranking for keyword search (issue 18): find the story, not the line that repeats its headline.

An article's title is evidence for each of its passages; a digest line that
repeats a headline ranks after its story; grouped, -word leaves out whole
articles; a question is not answered by a passage that shares one common
character with it; pinyin finds the word it spells.
"""

from __future__ import annotations

from .test_articles import NEWS_DAY, _service


def test_the_story_ranks_above_the_digest_line_that_repeats_its_headline(tmp_path):
    service = _service(tmp_path, {"20230103.md": NEWS_DAY})
    story = "王岐山出席巴西新任总统就职仪式"
    for group in (None, "article"):
        hits = service.search("王岐山 新任", group=group).hits
        assert hits[0].title == story, [(h.title, h.kind, h.text) for h in hits]
        digest = next(i for i, h in enumerate(hits) if h.title == "新闻摘要")
        stories = [i for i, h in enumerate(hits) if h.title == story]
        assert max(stories) < digest, "every passage of the story before the digest line"
    line = next(h for h in service.search("王岐山 新任", limit=0).hits if h.title == "新闻摘要")
    assert line.kind == "digest" and line.text.startswith("1.王岐山")


def test_a_title_that_matches_lifts_its_story_above_one_that_mentions_the_words(tmp_path):
    service = _service(tmp_path, {"20230103.md": NEWS_DAY})
    hits = service.search("巴西 就职仪式", group="article").hits
    titles = [h.title for h in hits]
    # The third story says 巴西 … 就职仪式 in a body paragraph; its title does not.
    assert titles.index("王岐山出席巴西新任总统就职仪式") < titles.index("多地举办冰雪运动季开幕活动")


def test_a_heading_never_outranks_the_paragraphs_about_the_word(service):
    """The bundled report's heading 织密工会“覆盖网” names 工会 in six
    characters; every paragraph that holds 工会 as a word of its own ranks
    above it."""
    hits = service.search("工会", limit=0).hits
    heading = next(i for i, h in enumerate(hits) if h.kind == "heading" and "工会" in h.text)
    about = [i for i, h in enumerate(hits) if h.kind == "body"
             and any(t.rule == "word" for t in service.explain("工会", h.id).terms)]
    assert len(about) >= 5 and max(about) < heading, [(h.kind, h.score, h.text[:20]) for h in hits]


def test_grouped_exclusion_leaves_out_every_article_that_holds_the_word(tmp_path):
    service = _service(tmp_path, {
        "a.md": "# 澄城面包车事故\n\n一辆面包车在路口侧翻。\n\n事故发生在澄城县城关镇。\n",
        "b.md": "# 蒲城面包车事故\n\n一辆面包车与货车相撞。\n\n事故发生在蒲城县。\n",
    })
    per_passage = {h.source for h in service.search("面包车 -澄城", limit=0).hits}
    assert per_passage == {"a.md", "b.md"}  # a.md's first paragraph has no 澄城
    grouped = service.search("面包车 -澄城", limit=0, group="article")
    assert {h.source for h in grouped.hits} == {"b.md"} and grouped.total == 1
    assert sum(grouped.facets["source"].values()) == 1


def test_a_question_is_not_answered_by_a_passage_that_shares_one_character(tmp_path):
    service = _service(tmp_path, {
        "a.md": "# 食物中毒事件\n\n深圳龙岗区一家工厂发生食物中毒，共有32人送医。\n",
        "b.md": "# 社区活动\n\n社区组织老人开展健步走活动，参加的人很多。\n",
    })
    result = service.search("深圳龙岗区的工厂有多少人食物中毒？", limit=0)
    assert result.hits and {h.source for h in result.hits} == {"a.md"}


def test_a_query_in_pinyin_offers_the_word_it_spells(service):
    for typed, word in (("laomo", "劳模"), ("aixintuoguan", "爱心托管"), ("LaoMo", "劳模")):
        result = service.search(typed)
        assert result.total == 0 and result.suggestion == word, typed
        assert service.search(result.suggestion).total > 0
