"""The QIDS-SR16 total is the sum of nine domain scores, never the raw sum of 16 items."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.scoring import score


def test_multi_item_domains_score_their_highest_item():
    # sleep items 1–4 = 3, 1, 2, 0 → 3; appetite/weight 6–9 = 0, 2, 1, 3 → 3; psychomotor 15–16 = 1, 2 → 2
    answers = [3, 1, 2, 0, 1, 0, 2, 1, 3, 1, 1, 0, 1, 1, 1, 2]
    result = score("qids_sr16", answers)
    assert result.subscores == {
        "sleep": 3,
        "sad_mood": 1,
        "appetite_weight": 3,
        "concentration": 1,
        "self_view": 1,
        "death_suicide": 0,
        "interest": 1,
        "energy": 1,
        "psychomotor": 2,
    }
    assert result.total == 13
    assert result.band == "moderate"


def test_the_raw_sum_would_give_a_different_and_wrong_total():
    answers = [3, 1, 2, 0, 1, 0, 2, 1, 3, 1, 1, 0, 1, 1, 1, 2]
    assert sum(answers) == 20  # would read "severe"
    assert score("qids_sr16", answers).total == 13


def test_all_items_at_maximum_give_27_not_48():
    result = score("qids_sr16", [3] * 16)
    assert result.total == 27
    assert result.band == "very_severe"


@pytest.mark.parametrize(
    ("item", "value"),
    [(1, 3), (2, 3), (3, 3), (4, 3)],
)
def test_any_single_sleep_item_sets_the_sleep_domain(item, value):
    answers = [0] * 16
    answers[item - 1] = value
    result = score("qids_sr16", answers)
    assert result.subscores["sleep"] == value
    assert result.total == value


def test_weight_gain_and_loss_do_not_add_up():
    answers = [0] * 16
    answers[7] = 2  # item 8, decreased weight
    answers[8] = 3  # item 9, increased weight
    result = score("qids_sr16", answers)
    assert result.subscores["appetite_weight"] == 3
    assert result.total == 3
