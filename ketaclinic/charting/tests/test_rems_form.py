"""The REMS Patient Monitoring Form is filled from the record and says what is missing.

Fields of the 2021 form, REFERENCE.md section 4; the definition is data.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from ketaclinic.charting.rems import DEFAULT_FORM, FormDefinition, dose_fields, fill_form

COMPLETE = {
    "patient_name": "Ada Example",
    "patient_date_of_birth": date(1980, 5, 17),
    "patient_sex": "female",
    "concomitant_benzodiazepines": False,
    "concomitant_non_benzodiazepine_sedative_hypnotics": False,
    "concomitant_psychostimulants": False,
    "concomitant_maois": False,
    "monitoring_provider": "N. Nurse RN",
    "monitoring_setting": "Example Clinic",
    "treatment_date": date(2025, 3, 3),
    "dose": "56_mg",
    "lot_number": "LOT123",
    "total_monitoring_minutes": 125,
    "ready_to_leave_minutes": 90,
    "vitals_acceptable_before_dosing": True,
    "vitals_acceptable_before_leaving": True,
    "bp_before_dosing_systolic_mmhg": 128,
    "bp_before_dosing_diastolic_mmhg": 82,
    "bp_40_min_systolic_mmhg": 142,
    "bp_40_min_diastolic_mmhg": 90,
    "bp_before_leaving_systolic_mmhg": 126,
    "bp_before_leaving_diastolic_mmhg": 80,
    "sedation": False,
    "dissociation": True,
    "respiratory_depression": False,
    "other_adverse_events": False,
}


def test_the_form_has_the_2021_fields_of_the_reference():
    codes = {f.code for f in DEFAULT_FORM.fields}

    assert set(COMPLETE) <= codes
    assert DEFAULT_FORM.version == "2021"
    assert "spravatorems.com" in DEFAULT_FORM.source


def test_a_fully_recorded_session_gives_a_complete_form():
    result = fill_form(COMPLETE)

    assert result.complete
    assert result.missing == ()
    assert result.values["lot_number"] == "LOT123"


def test_an_empty_record_lists_every_required_field_in_form_order():
    result = fill_form({})

    assert not result.complete
    assert result.missing == tuple(f.code for f in DEFAULT_FORM.fields if f.required)
    assert set(result.values) == {f.code for f in DEFAULT_FORM.fields}


def test_missing_fields_are_listed():
    known = {
        k: v for k, v in COMPLETE.items() if k not in {"lot_number", "bp_40_min_systolic_mmhg"}
    }

    assert fill_form(known).missing == ("lot_number", "bp_40_min_systolic_mmhg")


def test_blank_text_counts_as_missing():
    assert fill_form(COMPLETE | {"monitoring_provider": "  "}).missing == ("monitoring_provider",)


def test_no_is_an_answer_not_a_missing_value():
    assert fill_form(COMPLETE | {"sedation": False}).values["sedation"] is False


def test_another_dose_needs_the_dose_written_out():
    result = fill_form(COMPLETE | {"dose": "other"})
    assert result.missing == ("dose_other_mg",)

    assert fill_form(COMPLETE | {"dose": "other", "dose_other_mg": 28}).complete


def test_other_adverse_events_need_a_description():
    result = fill_form(COMPLETE | {"other_adverse_events": True})
    assert result.missing == ("other_adverse_events_description",)

    described = {"other_adverse_events": True, "other_adverse_events_description": "headache"}
    assert fill_form(COMPLETE | described).complete


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_sex", "unknown"),
        ("sedation", "no"),
        ("treatment_date", datetime(2025, 3, 3, 10, 0)),  # noqa: DTZ001 - a wrong type on purpose
        ("total_monitoring_minutes", -5),
        ("total_monitoring_minutes", Decimal("120.5")),
        ("bp_40_min_systolic_mmhg", True),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_problem_and_leaves_the_form_incomplete(field, value):
    result = fill_form(COMPLETE | {field: value})

    assert [p.field for p in result.problems] == [field]
    assert field in result.missing
    assert not result.complete


def test_fields_the_form_does_not_have_are_ignored():
    assert fill_form(COMPLETE | {"room": "Chair 3"}).complete


@pytest.mark.parametrize(
    ("total_mg", "fields"),
    [
        (56, {"dose": "56_mg"}),
        (84, {"dose": "84_mg"}),
        (28, {"dose": "other", "dose_other_mg": 28}),
        (Decimal("56.00"), {"dose": "56_mg"}),
    ],
)
def test_the_dose_fields_follow_the_total_esketamine_dose(total_mg, fields):
    assert dose_fields(total_mg) == fields


def test_a_definition_with_a_stray_key_is_refused():
    bad = {
        "form": "f",
        "version": "1",
        "source": "s",
        "due_within_days": 7,
        "due_source": "s",
        "sections": [
            {"code": "a", "fields": [{"code": "x", "label": "X", "type": "text", "y": None}]}
        ],
    }

    with pytest.raises(ValueError, match="unknown keys"):
        FormDefinition.from_mapping(bad)
