"""Computed findings: age, today's blood pressure, antidepressant trials, route rules."""

from __future__ import annotations

import pytest

from ketaclinic.screening import rules
from ketaclinic.screening.rules import Decision, Severity


def _screen(**overrides):
    inputs = {
        "route": "iv",
        "indication": "ptsd",
        "age_years": 40,
        "adequate_antidepressant_trials": 0,
    }
    return rules.evaluate(**(inputs | overrides))


def _codes(result):
    return [finding.code for finding in result.findings]


@pytest.mark.parametrize(
    ("age_years", "expected"),
    [(0, ["minor"]), (17, ["minor"]), (18, []), (19, []), (130, [])],
)
def test_a_patient_under_18_is_a_minor_and_excluded(age_years, expected):
    result = _screen(age_years=age_years)
    assert _codes(result) == expected
    assert result.decision is (Decision.INELIGIBLE if expected else Decision.ELIGIBLE)


@pytest.mark.parametrize(
    ("route", "age_years", "expected"),
    [
        ("esketamine", 64, []),
        ("esketamine", 65, ["older_adult_esketamine"]),
        ("esketamine", 90, ["older_adult_esketamine"]),
        ("iv", 65, []),
        ("im", 80, []),
        ("sublingual", 70, []),
        ("oral", 65, []),
    ],
)
def test_esketamine_at_65_or_over_is_an_information_only(route, age_years, expected):
    result = _screen(route=route, age_years=age_years)
    assert _codes(result) == expected
    assert result.decision is Decision.ELIGIBLE
    if expected:
        assert result.findings[0].severity is Severity.INFO
        assert "28 mg" in result.findings[0].message


# REFERENCE.md section 2: >= 180/110 excludes today (default clinic policy [U]); >= 140/90
# below that line is a caution (esketamine label example).
BP_TABLE = [
    (120, 80, [], Decision.ELIGIBLE),
    (139, 89, [], Decision.ELIGIBLE),
    (140, 60, ["elevated_bp_today"], Decision.NEEDS_REVIEW),
    (120, 90, ["elevated_bp_today"], Decision.NEEDS_REVIEW),
    (141, 91, ["elevated_bp_today"], Decision.NEEDS_REVIEW),
    (179, 109, ["elevated_bp_today"], Decision.NEEDS_REVIEW),
    (180, 80, ["bp_too_high_today"], Decision.INELIGIBLE),
    (150, 110, ["bp_too_high_today"], Decision.INELIGIBLE),
    (181, 111, ["bp_too_high_today"], Decision.INELIGIBLE),
    (139.5, 89.5, [], Decision.ELIGIBLE),
    (179.9, 60, ["elevated_bp_today"], Decision.NEEDS_REVIEW),
]


@pytest.mark.parametrize("route", ["iv", "esketamine"])
@pytest.mark.parametrize(("systolic", "diastolic", "expected", "decision"), BP_TABLE)
def test_todays_blood_pressure_at_below_and_above_the_thresholds(
    route, systolic, diastolic, expected, decision
):
    result = _screen(route=route, systolic_mmhg=systolic, diastolic_mmhg=diastolic)
    assert _codes(result) == expected
    assert result.decision is decision


def test_blood_pressure_too_high_replaces_the_raised_caution():
    result = _screen(systolic_mmhg=200, diastolic_mmhg=100)
    assert _codes(result) == ["bp_too_high_today"]


def test_the_blood_pressure_message_states_the_reading_and_the_limit():
    (finding,) = _screen(systolic_mmhg=185, diastolic_mmhg=95).findings
    assert "185/95" in finding.message
    assert "180/110" in finding.message
    assert finding.sources == ("Clinic policy (no guideline fixes it)",)


def test_no_blood_pressure_given_computes_no_blood_pressure_finding():
    assert _codes(_screen()) == []


@pytest.mark.parametrize(
    ("indication", "trials", "expected"),
    [
        ("trd", 0, ["trd_criteria_not_met"]),
        ("trd", 1, ["trd_criteria_not_met"]),
        ("trd", 2, []),
        ("trd", 5, []),
        ("mdd_suicidal_ideation", 0, []),
        ("ptsd", 0, []),
        ("bipolar_depression", 1, []),
    ],
)
def test_trd_needs_at_least_two_adequate_antidepressant_trials(indication, trials, expected):
    result = _screen(indication=indication, adequate_antidepressant_trials=trials)
    assert _codes(result) == expected


@pytest.mark.parametrize(
    ("route", "indication", "oral_antidepressant", "expected"),
    [
        ("esketamine", "mdd_suicidal_ideation", True, []),
        ("esketamine", "mdd_suicidal_ideation", False, ["oral_antidepressant_required"]),
        ("esketamine", "mdd_suicidal_ideation", None, ["oral_antidepressant_required"]),
        ("esketamine", "trd", False, []),
        ("esketamine", "trd", None, []),
        ("iv", "mdd_suicidal_ideation", False, []),
    ],
)
def test_esketamine_for_suicidal_ideation_needs_an_oral_antidepressant(
    route, indication, oral_antidepressant, expected
):
    result = _screen(
        route=route,
        indication=indication,
        adequate_antidepressant_trials=3,
        oral_antidepressant=oral_antidepressant,
    )
    assert _codes(result) == expected


def test_an_unknown_oral_antidepressant_is_flagged_with_a_request_to_confirm():
    def message(flag):
        (finding,) = _screen(
            route="esketamine", indication="mdd_suicidal_ideation", oral_antidepressant=flag
        ).findings
        return finding.message

    assert "confirm" in message(None)
    assert "none is recorded" in message(False)
