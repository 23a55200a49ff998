"""How a passage's BM25 score becomes its rank: an article's title is
evidence for every passage of the article.

An article is what a reader looks for, and its headline is the best
evidence of what it is about, as in Elasticsearch's ``multi_match`` over
title and body or Lucene's BM25F. Each matching passage ranks by

    relevance = own BM25 × (LEAD_WEIGHT for a heading, byline or digest line, else 1)
                + TITLE_WEIGHT × the BM25 of its article's title, when the title matches too

- **Title evidence.** Type two words of a headline and every passage of
  that story gains what its title scores, so the story ranks first. Until
  issue 18, titles ranked after every body passage: the story was first for
  3 % of 294 headlines of 2022. The title passage counts its own score in
  full too, so among articles whose titles match, the title decides and the
  body only breaks ties: one hit per article then ranks at least as well as
  searching the titles alone (5 draws of 300 headlines of 2022).
- **Leads weigh less on their own.** A heading, byline or digest line
  is a few words long, and BM25's length normalisation lifts a six-character
  heading that only names a word above the paragraphs that are about it
  (``织密工会“覆盖网”`` 7.96 against 7.19 for the best paragraph on 工会 in
  the bundled report). At :data:`LEAD_WEIGHT` it scores 2.39, below every
  paragraph that holds the word itself. A digest line (``4.王岐山出席巴西
  新任总统就职仪式；``) is a lead too: it repeats the headline and gains no
  title evidence of its own, so the story's passages outrank it.
- **Questions.** A query ranked by the words passages share with it (a
  question, a pasted sentence) takes no title evidence, and its titles
  weigh as leads: a short title that shares two words of a question is no
  answer (CMRC 2018 trial MRR@10 0.748 with evidence, 0.924 without).

Both evaluations (the arrays and Whoosh's) hand the same BM25 scores here,
so their rankings stay the same.

>>> import numpy as np
>>> scores = np.array([8.0, 7.0, 30.0, 20.0, 1.0])
>>> lead = np.array([True, False, True, False, True])    # a heading, body, a title, body, a digest line
>>> title = np.array([False, False, True, False, False])
>>> article = np.array([0, 0, 1, 1, -1])
>>> relevance(scores, lead=lead, title=title, article=article).round(1).tolist()
[2.4, 7.0, 90.0, 80.0, 0.3]
"""

from __future__ import annotations

import numpy as np

# A lead passage's own score counts at this weight: below every body
# paragraph that holds the word itself on the bundled report's 工会 (the
# heading 7.96 × 0.3 = 2.39 < 3.00, the weakest such paragraph).
LEAD_WEIGHT = 0.3
# The title's score, twice over, added to each passage of its article, on
# top of the title passage's own: the title decides which article ranks
# first, the body only between twins (2022 known-item, 141 identifying
# headlines, MRR@10: 0.953 at 1.0, 0.956 at 2.0; 3.0 and 5.0 change a probe
# or two).
TITLE_WEIGHT = 2.0


def relevance(scores: np.ndarray, *, lead: np.ndarray, title: np.ndarray, article: np.ndarray,
              title_weight: float = TITLE_WEIGHT) -> np.ndarray:
    """The rank keys of matches with BM25 ``scores``: ``lead`` and ``title``
    say which matches are lead passages and article titles, ``article``
    numbers each match's article (-1: none). ``title_weight`` 0 for a query
    ranked by the words a passage shares with it (a question): a title that
    shares one word is no evidence then."""
    if not len(scores):
        return scores
    evidence = np.zeros(int(article.max()) + 2)  # the last slot, for -1, stays 0
    titles = title & (article >= 0)
    np.maximum.at(evidence, article[titles], scores[titles])
    # The headline counts in full when it is evidence; a question ranks it
    # as the short lead passage it is.
    weak = lead & ~title if title_weight else lead
    own = np.where(weak, scores * LEAD_WEIGHT, scores)
    return own + title_weight * evidence[article]
