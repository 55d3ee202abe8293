"""What the REMS form takes from a hand-built esketamine session record, field by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ketaclinic.charting import rems_record
from ketaclinic.charting.models import AdverseEvent, SafetyAlert, VitalReading
from ketaclinic.inventory import services as inventory
from ketaclinic.inventory.tests.helpers import receive
from ketaclinic.patients.models import EntryStatus

from .rems_makers import at, certify, esketamine_session, medicate, request_by

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def session(patient_a, prescriber, nurse):
    certify(prescriber, DAY)
    medicate(patient_a, prescriber, "Lorazepam", "benzodiazepine")
    return esketamine_session(patient_a, prescriber, nurse, day=DAY)


def values_of(session):
    return dict(rems_record.form_state(session, today=DAY).result.values)


def test_the_record_fills_every_field_it_knows(session, settings):
    state = rems_record.form_state(session, today=DAY)

    assert dict(state.result.values) == {
        "patient_name": "Ada Alvarez",
        "patient_date_of_birth": dt.date(1980, 5, 17),
        "patient_sex": "female",
        "concomitant_benzodiazepines": True,
        "concomitant_non_benzodiazepine_sedative_hypnotics": False,
        "concomitant_psychostimulants": False,
        "concomitant_maois": False,
        "monitoring_provider": "Prescriber, MD",
        "monitoring_setting": f"{settings.CLINIC_NAME} (REMS certificate C-1)",
        "treatment_date": DAY,
        "dose": "56_mg",
        "dose_other_mg": None,
        "lot_number": "SPR123",
        "total_monitoring_minutes": 125,
        "ready_to_leave_minutes": None,
        "vitals_acceptable_before_dosing": True,
        "vitals_acceptable_before_leaving": True,
        "bp_before_dosing_systolic_mmhg": 128,
        "bp_before_dosing_diastolic_mmhg": 82,
        "bp_40_min_systolic_mmhg": 150,
        "bp_40_min_diastolic_mmhg": 95,
        "bp_before_leaving_systolic_mmhg": 130,
        "bp_before_leaving_diastolic_mmhg": 84,
        "sedation": False,
        "dissociation": True,
        "respiratory_depression": False,
        "other_adverse_events": True,
        "other_adverse_events_description": "Nausea (mild)",
    }
    # The one thing a chart cannot know: when the patient would have been ready to leave.
    assert state.result.missing == ("ready_to_leave_minutes",)
    assert state.due_date == DAY + dt.timedelta(days=7)


def test_each_value_names_where_it_came_from(session):
    bases = rems_record.form_state(session, today=DAY).bases

    assert bases["bp_40_min_systolic_mmhg"] == "reading at 09:55"
    assert bases["total_monitoring_minutes"] == "first device 09:15 to discharge 11:20"
    assert "Lorazepam" in bases["concomitant_benzodiazepines"]
    assert bases["dissociation"] == "charted: dissociation 4/10 at 09:45"


def test_bp_at_40_minutes_is_the_reading_the_schedule_matches_not_the_nearest_other(session, nurse):
    for moment, systolic in ((at(DAY, 9, 45), 170), (at(DAY, 10, 30), 120)):
        VitalReading.objects.create(
            session=session,
            at=moment,
            source="manual",
            systolic_mmhg=systolic,
            diastolic_mmhg=80,
            recorded_by=nurse,
        )
    assert values_of(session)["bp_40_min_systolic_mmhg"] == 150


def test_without_a_reading_near_40_minutes_the_field_is_missing(session):
    VitalReading.objects.filter(session=session, at=at(DAY, 9, 55)).update(
        status=EntryStatus.ENTERED_IN_ERROR
    )
    state = rems_record.form_state(session, today=DAY)
    assert "bp_40_min_systolic_mmhg" in state.result.missing
    assert "no reading fits" in state.bases["bp_40_min_systolic_mmhg"]


def test_only_medications_taken_on_the_treatment_date_count(session, patient_a, prescriber):
    medicate(
        patient_a,
        prescriber,
        "Methylphenidate",
        "psychostimulant",
        status=EntryStatus.STOPPED,
        stopped_on=DAY - dt.timedelta(days=30),
    )
    medicate(patient_a, prescriber, "Zolpidem", "sedative_hypnotic", status="entered-in-error")
    medicate(patient_a, prescriber, "Phenelzine", "maoi", started_on=DAY + dt.timedelta(days=1))
    medicate(
        patient_a,
        prescriber,
        "Modafinil",
        "psychostimulant",
        status=EntryStatus.STOPPED,
        stopped_on=DAY + dt.timedelta(days=3),
    )

    values = values_of(session)
    assert values["concomitant_non_benzodiazepine_sedative_hypnotics"] is False
    assert values["concomitant_maois"] is False
    assert values["concomitant_psychostimulants"] is True  # modafinil, stopped after


@pytest.mark.parametrize(
    ("devices", "expected"),
    [(3, {"dose": "84_mg", "dose_other_mg": None}), (1, {"dose": "other", "dose_other_mg": 28})],
)
def test_the_dose_comes_from_the_devices_charted(patient_a, prescriber, nurse, devices, expected):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=devices)
    values = values_of(session)
    assert {code: values[code] for code in expected} == expected


def test_an_alert_on_the_reading_before_dosing_leaves_the_answer_to_a_clinician(session):
    reading = VitalReading.objects.get(session=session, at=at(DAY, 9, 10))
    SafetyAlert.objects.create(
        session=session,
        reading=reading,
        code="bp_high",
        level="warning",
        action="recheck",
        basis="x",
    )
    state = rems_record.form_state(session, today=DAY)
    assert state.result.values["vitals_acceptable_before_dosing"] is None
    assert "raised an alert (Blood pressure high)" in state.bases["vitals_acceptable_before_dosing"]


def test_a_respiratory_depression_alert_answers_yes(session):
    SafetyAlert.objects.create(
        session=session, code="respiratory_depression", level="critical", action="x", basis="x"
    )
    assert values_of(session)["respiratory_depression"] is True


def test_a_sex_the_form_does_not_list_is_answered_on_the_form(patient_a, prescriber, nurse):
    patient_a.sex = "other"
    patient_a.save()
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY)
    state = rems_record.form_state(session, today=DAY)
    assert "patient_sex" in state.result.missing
    assert state.editable("patient_sex")


def test_without_a_certification_in_force_the_setting_is_missing(patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY)
    state = rems_record.form_state(session, today=DAY)
    assert "monitoring_setting" in state.result.missing


def test_before_discharge_the_end_of_monitoring_answers_are_missing(patient_a, prescriber, nurse):
    certify(prescriber, DAY)
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, discharged=False)
    missing = rems_record.form_state(session, today=DAY).result.missing
    for code in (
        "total_monitoring_minutes",
        "vitals_acceptable_before_leaving",
        "bp_before_leaving_systolic_mmhg",
        "sedation",
        "other_adverse_events",
    ):
        assert code in missing


def test_the_lot_comes_from_the_controlled_substance_log_when_the_session_has_none(
    patient_a, prescriber, nurse
):
    today = timezone.localdate()
    session = esketamine_session(patient_a, prescriber, nurse, day=today, lot_number="")
    session.status = "observation"
    session.save(update_fields=["status"])
    lot = receive(
        nurse,
        drug="esketamine",
        product="Spravato 28 mg nasal device",
        mg_per_vial="28",
        ml_per_vial="0.2",
        vials=6,
        lot_number="LOG-77",
    ).lot
    inventory.draw_record(
        request=request_by(nurse), session=session, lot=lot, quantity_mg=Decimal(56)
    )
    state = rems_record.form_state(session)
    assert state.result.values["lot_number"] == "LOG-77"
    assert "controlled-substance log" in state.bases["lot_number"]


def test_an_adverse_event_charted_in_words_is_left_to_a_clinician_not_guessed(session, nurse):
    AdverseEvent.objects.create(
        session=session, description="Marked sedation, rousable to voice", recorded_by=nurse
    )
    state = rems_record.form_state(session, today=DAY)
    values = state.result.values

    # Coded entries still answer yes; nothing is answered "no" past words it cannot read.
    assert values["dissociation"] is True
    for code in ("sedation", "respiratory_depression", "other_adverse_events"):
        assert values[code] is None
        assert code in state.result.missing
        assert state.editable(code)
    assert "Marked sedation" in state.bases["sedation"]
    assert "also charted: Nausea (mild)" in state.bases["other_adverse_events"]
