"""Wrong answers are refused with an AnswerError naming the 1-based item."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.scoring import AnswerError, ScoringError, score


def test_an_answer_error_is_a_value_error_that_names_the_item():
    with pytest.raises(AnswerError) as raised:
        score("phq9", [0, 0, 0, 4, 0, 0, 0, 0, 0])
    assert isinstance(raised.value, ValueError)
    assert raised.value.item == 4
    assert str(raised.value).startswith("item 4:")
    assert "0, 1, 2, 3" in raised.value.message


@pytest.mark.parametrize(
    ("code", "answers", "item"),
    [
        ("phq9", [-1, 0, 0, 0, 0, 0, 0, 0, 0], 1),
        ("gad7", [0, 0, 0, 0, 0, 0, 4], 7),
        ("pcl5", [0] * 19 + [5], 20),
        ("qids_sr16", [0] * 11 + [4] + [0] * 4, 12),
        ("madrs", [0] * 9 + [7], 10),
        ("pain_nrs", [11], 1),
        ("dissociation_nrs", [-1], 1),
    ],
)
def test_an_out_of_range_answer_names_its_item(code, answers, item):
    with pytest.raises(AnswerError) as raised:
        score(code, answers)
    assert raised.value.item == item


def test_too_many_answers_name_the_first_extra_item():
    with pytest.raises(AnswerError) as raised:
        score("phq9", [0] * 10)
    assert raised.value.item == 10
    assert "9 items; got 10" in raised.value.message


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_answers_must_be_whole_numbers(bad):
    answers = [0] * 9
    answers[2] = bad
    with pytest.raises(AnswerError) as raised:
        score("phq9", answers)
    assert raised.value.item == 3
    assert "whole number" in raised.value.message


def test_an_out_of_range_answer_is_refused_even_when_others_are_missing():
    # Bad data must not be stored as "in progress" either.
    with pytest.raises(AnswerError) as raised:
        score("phq9", [0, None, 9])
    assert raised.value.item == 3


def test_answers_must_come_as_a_list():
    with pytest.raises(ScoringError):
        score("phq9", "000000000")
