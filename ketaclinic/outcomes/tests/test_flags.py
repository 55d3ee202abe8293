"""Safety flags rise from single items whatever the total (REFERENCE.md §5)."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.scoring import score


@pytest.mark.parametrize(("item_9", "flagged"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item_9_above_zero_flags_suicidal_ideation(item_9, flagged):
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, item_9])
    assert ("suicidal_ideation" in result.flags) is flagged


def test_the_phq9_flag_rises_even_when_the_total_is_minimal():
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert (result.total, result.band, result.flags) == (1, "minimal", ("suicidal_ideation",))


def test_a_severe_phq9_without_item_9_raises_no_flag():
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert (result.band, result.flags) == ("severe", ())


@pytest.mark.parametrize(("item_12", "flagged"), [(0, False), (1, True), (3, True)])
def test_qids_item_12_above_zero_flags_suicidal_ideation(item_12, flagged):
    answers = [0] * 16
    answers[11] = item_12
    assert ("suicidal_ideation" in score("qids_sr16", answers).flags) is flagged


@pytest.mark.parametrize("code", ["gad7", "pcl5", "madrs"])
def test_instruments_without_a_flag_rule_never_flag(code):
    from ketaclinic.outcomes.definitions import get_instrument

    instrument = get_instrument(code)
    top = [item.max_value for item in instrument.items]
    assert score(instrument, top).flags == ()
