"""Normalisation and the jieba tokenizer's Whoosh contract."""

import pickle

import jieba.analyse
from whoosh import fields, index
from whoosh.query import Phrase

from indexer.analysis import ChineseAnalyzer, JiebaTokenizer, iter_words, segment
from indexer.normalize import normalize_text


def test_normalize_folds_width_case_and_traditional_keeping_length():
    for original, expected in [("ＩＢＭ２０２３", "ibm2023"), ("勞動模範", "劳动模范"),
                               ("Hello　World", "hello world")]:
        assert normalize_text(original) == expected
    text = "歷史上的ＡＢＣ與İ"
    assert len(normalize_text(text)) == len(text)


def test_tokenizer_gives_ordinal_positions_and_original_offsets():
    value = "勞模精神，ＩＢＭ 25.6 万次"
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in JiebaTokenizer()(value, positions=True, chars=True)]
    assert tokens == [("劳模", 0, 0, 2), ("精神", 1, 2, 4), ("ibm", 3, 5, 8),
                      ("25.6", 4, 9, 13), ("万次", 5, 14, 16)]
    # Offsets point into the original text, whatever normalisation did.
    assert [value[s:e] for _, _, s, e in tokens] == ["勞模", "精神", "ＩＢＭ", "25.6", "万次"]


def test_tokenizer_honours_start_pos_start_char_and_tokenize_false():
    tokens = [(t.text, t.pos, t.startchar) for t in
              JiebaTokenizer()("劳模", positions=True, chars=True, start_pos=5, start_char=10)]
    assert tokens == [("劳模", 5, 10)]
    whole = [t.text for t in JiebaTokenizer()("爱心托管服务", tokenize=False)]
    assert whole == ["爱心托管服务"]


def test_punctuation_leaves_a_gap_so_phrases_do_not_cross_it():
    positions = [pos for _, pos, _, _ in iter_words("大会，以来")]
    assert positions == [0, 2]


def test_fullwidth_digits_and_letters_are_kept_unlike_the_readme_example():
    assert segment("２０２３年ＩＢＭ") == ["2023", "年", "ibm"]
    readme_words = [t.text for t in jieba.analyse.ChineseAnalyzer()("２０２３年ＩＢＭ")]
    assert "2023" not in readme_words


def test_analyzer_pickles_at_a_stable_path(tmp_path):
    analyzer = ChineseAnalyzer()
    assert pickle.loads(pickle.dumps(analyzer)) == analyzer
    schema = fields.Schema(content=fields.TEXT(analyzer=analyzer, phrase=True, stored=True))
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        writer.add_document(content="深化爱心托管服务，开设爱心托管班")
    reopened = index.open_dir(str(tmp_path))
    assert isinstance(reopened.schema["content"].analyzer, JiebaTokenizer)
    with reopened.searcher() as searcher:
        words = [t.text for t in reopened.schema["content"].analyzer("爱心托管服务")]
        assert len(searcher.search(Phrase("content", words))) == 1


def test_phrase_query_fails_with_the_readme_analyzer_but_not_ours(tmp_path):
    """The baseline gives overlapping tokens positions that break phrases."""
    found = {}
    for name, analyzer in [("readme", jieba.analyse.ChineseAnalyzer()), ("ours", ChineseAnalyzer())]:
        folder = tmp_path / name
        folder.mkdir()
        ix = index.create_in(str(folder), fields.Schema(
            content=fields.TEXT(analyzer=analyzer, phrase=True, stored=True)))
        with ix.writer() as writer:
            writer.add_document(content="全国劳动模范黎贤花获得荣誉称号")
        with ix.searcher() as searcher:
            words = [t.text for t in analyzer("劳动模范黎贤花")]
            found[name] = len(searcher.search(Phrase("content", words)))
    assert found == {"readme": 0, "ours": 1}


def test_a_traditional_character_alone_normalises_as_it_does_in_a_word():
    for word in ["乾隆", "瞭解", "後來", "頭髮"]:
        assert normalize_text(word)[0] == normalize_text(word[0])
