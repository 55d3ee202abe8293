"""Bad inputs are refused with the field named, never ignored."""

from __future__ import annotations

import pytest

from ketaclinic.screening import rules
from ketaclinic.screening.rules import ScreeningInputError

GOOD = {
    "route": "iv",
    "indication": "trd",
    "age_years": 40,
    "adequate_antidepressant_trials": 2,
}


def _refused(**overrides) -> ScreeningInputError:
    with pytest.raises(ScreeningInputError) as caught:
        rules.evaluate(**(GOOD | overrides))
    return caught.value


def test_the_error_is_a_value_error_that_names_the_field():
    error = _refused(route="nasal")
    assert isinstance(error, ValueError)
    assert error.field == "route"
    assert "nasal" in error.message
    assert "esketamine" in error.message  # lists the valid routes


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"route": "IV"}, "route"),
        ({"route": "subcutaneous"}, "route"),
        ({"route": None}, "route"),
        ({"indication": "depression"}, "indication"),
        ({"indication": None}, "indication"),
        ({"age_years": None}, "age_years"),
        ({"age_years": -1}, "age_years"),
        ({"age_years": 131}, "age_years"),
        ({"age_years": 40.5}, "age_years"),
        ({"age_years": "40"}, "age_years"),
        ({"age_years": True}, "age_years"),
        ({"adequate_antidepressant_trials": -1}, "adequate_antidepressant_trials"),
        ({"adequate_antidepressant_trials": None}, "adequate_antidepressant_trials"),
        ({"adequate_antidepressant_trials": 1.0}, "adequate_antidepressant_trials"),
        ({"oral_antidepressant": "yes"}, "oral_antidepressant"),
        ({"oral_antidepressant": 1}, "oral_antidepressant"),
    ],
)
def test_missing_unknown_or_impossible_inputs_are_refused(overrides, field):
    assert _refused(**overrides).field == field


def test_an_unknown_finding_code_is_refused_and_named():
    error = _refused(findings=["pregnant", "pregnancy", "unicorn"])
    assert error.field == "findings"
    assert "pregnancy" in error.message
    assert "unicorn" in error.message


@pytest.mark.parametrize(
    "code",
    [
        "minor",
        "bp_too_high_today",
        "elevated_bp_today",
        "trd_criteria_not_met",
        "oral_antidepressant_required",
        "older_adult_esketamine",
    ],
)
def test_a_computed_code_given_as_input_is_refused_with_the_reason(code):
    error = _refused(findings=[code])
    assert error.field == "findings"
    assert "computed" in error.message


@pytest.mark.parametrize("findings", ["pregnant", b"pregnant", 3, [None], [1]])
def test_findings_must_be_a_collection_of_codes(findings):
    assert _refused(findings=findings).field == "findings"


# REFERENCE.md section 3: systolic 50-300, diastolic 20-200 and below systolic.
@pytest.mark.parametrize(
    ("systolic", "diastolic", "field"),
    [
        (49, 30, "systolic_mmhg"),
        (301, 100, "systolic_mmhg"),
        (120, 19, "diastolic_mmhg"),
        (250, 201, "diastolic_mmhg"),
        (120, 120, "diastolic_mmhg"),
        (100, 110, "diastolic_mmhg"),
        (400, 20, "systolic_mmhg"),
        (120, None, "diastolic_mmhg"),
        (None, 80, "systolic_mmhg"),
        (float("nan"), 80, "systolic_mmhg"),
        ("120", 80, "systolic_mmhg"),
        (True, 80, "systolic_mmhg"),
    ],
)
def test_an_implausible_or_half_given_blood_pressure_is_refused(systolic, diastolic, field):
    assert _refused(systolic_mmhg=systolic, diastolic_mmhg=diastolic).field == field


@pytest.mark.parametrize(("systolic", "diastolic"), [(50, 20), (300, 200), (201, 200)])
def test_the_plausibility_limits_themselves_are_accepted(systolic, diastolic):
    rules.evaluate(**GOOD, systolic_mmhg=systolic, diastolic_mmhg=diastolic)
