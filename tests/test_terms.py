"""The term table of the arrays: the vocabulary as sorted arrays, searched with np.searchsorted."""

from __future__ import annotations

import numpy as np

from indexer.terms import SortedTerms
from indexer.vocabulary import TermsVocabulary, Vocabulary


def test_the_term_table_answers_as_the_vocabulary_does():
    rng = np.random.default_rng(7)
    chars = list("劳模工会托管爱心服务黎贤花ab") + ["é", "𠀋"]
    words = {"".join(rng.choice(chars, size=rng.integers(1, 14))) for _ in range(2000)}
    table, reference = TermsVocabulary(SortedTerms.of_words(words)), Vocabulary(words)
    assert table.words == reference.words and len(table) == len(reference)
    for word in sorted(words)[::40] + ["劳", "x", "劳模工会托管爱心服务黎贤"]:
        assert (word in table) == (word in reference)
        for k in range(1, len(word) + 1):
            assert table.starting_with(word[:k]) == reference.starting_with(word[:k])
            assert table.ending_with(word[-k:]) == reference.ending_with(word[-k:])
            assert table.containing(word[:k]) == reference.containing(word[:k])
