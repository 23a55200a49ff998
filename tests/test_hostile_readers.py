"""Hostile and odd report files of issue 19: bombs refused in bounded time and
memory, damaged-looking but real text read.

Every file is built here and read in a child process with a memory limit and
a timeout (``read_in_child``), so a reader that would take hours fails its
test instead of freezing the suite.
"""

from __future__ import annotations

import pytest

from tests.documents import pdf_form_bomb
from tests.test_hostile import read_in_child, refused

# -- PDF: every operator counted, through nested forms -----------------------------------


@pytest.mark.slow
def test_a_pdf_of_nested_forms_is_refused(tmp_path):
    """8 levels of forms, each drawing the next 10 times: 10^8 strokes asked for
    by 2.2 KB (before: 120 s and 1.6 GB, stopped only by the time limit)."""
    data = pdf_form_bomb(levels=8, fanout=10)
    assert len(data) < 3_000
    outcome = read_in_child(tmp_path, data, "forms.pdf")
    assert refused(outcome, "forms", "not a report"), outcome


@pytest.mark.slow
def test_a_pdf_whose_forms_run_millions_of_operators_is_refused(tmp_path):
    """1,000 draws of a form of 2,000 cheap operators (q Q): under the limit
    of forms drawn, over the limit of operators a page runs."""
    data = pdf_form_bomb(levels=3, fanout=10, leaf=b"q Q " * 1_000)
    outcome = read_in_child(tmp_path, data, "operators.pdf")
    assert refused(outcome, "operators", "not a report"), outcome


@pytest.mark.slow
def test_a_pdf_form_drawn_again_and_again_is_counted_each_time(tmp_path):
    """A 5 MB form drawn 100 times is 500 MB of drawing instructions."""
    data = pdf_form_bomb(levels=2, fanout=10, leaf=b" " * 5_000_000 + b"0 0 m 1 1 l S")
    outcome = read_in_child(tmp_path, data, "redrawn.pdf")
    assert refused(outcome, "MB", "not a report"), outcome
