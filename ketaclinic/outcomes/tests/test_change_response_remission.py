"""Change from baseline, response and remission, per REFERENCE.md §5."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.definitions import UnknownInstrumentError
from ketaclinic.outcomes.scoring import ScoringError, change

TABLE = [
    # code, baseline, current, change_pct, response, remission
    ("phq9", 20, 8, -60.0, True, False),  # the API example
    ("phq9", 20, 10, -50.0, True, False),  # exactly 50% is a response
    ("phq9", 20, 11, -45.0, False, False),
    ("phq9", 10, 4, -60.0, True, True),  # remission is PHQ-9 < 5
    ("phq9", 10, 5, -50.0, True, False),
    ("phq9", 12, 15, 25.0, False, False),  # worse
    ("phq9", 7, 6, -14.3, False, False),
    ("gad7", 12, 6, -50.0, True, False),
    ("gad7", 12, 4, -66.7, True, True),  # remission is GAD-7 < 5
    ("gad7", 12, 5, -58.3, True, False),
    ("qids_sr16", 16, 8, -50.0, True, False),
    ("qids_sr16", 16, 9, -43.8, False, False),
    ("qids_sr16", 16, 5, -68.8, True, True),  # remission is QIDS-SR16 ≤ 5
    ("qids_sr16", 16, 6, -62.5, True, False),
    ("madrs", 30, 15, -50.0, True, False),
    ("madrs", 30, 16, -46.7, False, False),
    ("madrs", 30, 10, -66.7, True, True),  # remission is MADRS ≤ 10
    ("madrs", 30, 11, -63.3, True, False),
    ("pcl5", 50, 40, -20.0, True, None),  # response is a ≥10-point fall; no remission rule
    ("pcl5", 50, 41, -18.0, False, None),
    ("pcl5", 20, 10, -50.0, True, None),
    ("pain_nrs", 8, 4, -50.0, None, None),  # no response or remission rule for pain
    ("dissociation_nrs", 6, 0, -100.0, None, None),
]


@pytest.mark.parametrize(("code", "baseline", "current", "pct", "response", "remission"), TABLE)
def test_change_response_and_remission_follow_the_reference(
    code, baseline, current, pct, response, remission
):
    result = change(code, baseline, current)
    assert (result.change_pct, result.response, result.remission) == (pct, response, remission)


def test_the_api_example_has_the_api_shape():
    assert change("phq9", 20, 8).as_dict() == {
        "change_pct": -60.0,
        "response": True,
        "remission": False,
        "remission_variants": {"remission": False},
    }


@pytest.mark.parametrize(
    ("current", "le_10", "le_12"),
    [(10, True, True), (11, False, True), (12, False, True), (13, False, False)],
)
def test_madrs_reports_both_remission_lines(current, le_10, le_12):
    result = change("madrs", 30, current)
    assert result.remission is le_10
    assert result.remission_variants == {"remission_le_10": le_10, "remission_le_12": le_12}


@pytest.mark.parametrize(("current", "remission"), [(0, True), (3, True), (5, False)])
def test_a_zero_baseline_has_no_percentage_and_no_response(current, remission):
    result = change("phq9", 0, current)
    assert result.change_pct is None
    assert result.response is False
    # Remission depends on the current score alone, so it is still known.
    assert result.remission is remission


def test_a_zero_baseline_on_a_points_rule_is_no_response_either():
    result = change("pcl5", 0, 0)
    assert (result.change_pct, result.response, result.remission) == (None, False, None)


def test_percentages_round_half_away_from_zero():
    # (79 - 80) / 80 = -1.25 %; binary floats would round it to -1.2.
    assert change("pcl5", 80, 79).change_pct == -1.3
    assert change("qids_sr16", 16, 17).change_pct == 6.3  # 6.25 %
    assert change("madrs", 40, 41).change_pct == 2.5


def test_a_pcl5_fall_of_exactly_10_points_is_a_response_and_9_is_not():
    assert change("pcl5", 45, 35).response is True
    assert change("pcl5", 45, 36).response is False


@pytest.mark.parametrize(("baseline", "current"), [(28, 10), (10, -1), (10, 2.5)])
def test_totals_outside_the_instrument_range_are_refused(baseline, current):
    with pytest.raises(ScoringError, match="PHQ-9"):
        change("phq9", baseline, current)


def test_an_unknown_instrument_is_a_lookup_error():
    with pytest.raises(UnknownInstrumentError):
        change("hamd17", 20, 8)
