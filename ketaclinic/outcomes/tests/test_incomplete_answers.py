"""Partly answered questionnaires are never scored; they come back as in progress."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.scoring import Incomplete, ScoreResult, score


def test_a_gap_returns_incomplete_with_the_missing_items():
    result = score("phq9", [1, 1, None, 1, 1, 1, None, 1, 1])
    assert result == Incomplete(instrument="phq9", missing_items=(3, 7))


def test_fewer_answers_than_items_is_incomplete_not_an_error():
    result = score("gad7", [1, 2, 3])
    assert isinstance(result, Incomplete)
    assert result.missing_items == (4, 5, 6, 7)


def test_no_answers_at_all_is_incomplete():
    assert score("pain_nrs", []).missing_items == (1,)


def test_an_incomplete_result_has_no_total_or_band():
    result = score("pcl5", [4] * 19 + [None])
    assert not isinstance(result, ScoreResult)
    assert not hasattr(result, "total")
    assert result.as_dict() == {"instrument": "pcl5", "status": "incomplete", "missing_items": [20]}


@pytest.mark.parametrize("missing", [0, 8])
def test_an_unanswered_item_9_is_incomplete_never_scored_as_zero(missing):
    answers = [0] * 9
    answers[missing] = None
    assert isinstance(score("phq9", answers), Incomplete)
