"""Screening's measured BP comes from the latest reading charted that day, when there is one."""

from __future__ import annotations

from ketaclinic.charting import vitals_service as charting_vitals
from ketaclinic.charting.tests.session_makers import ago, open_session
from ketaclinic.conftest import signed_in


def test_the_form_starts_from_todays_latest_charted_blood_pressure(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "iv")
    for minutes, (sys_, dia) in ((20, (150, 95)), (10, (182, 104))):
        reading = charting_vitals.NewReading(
            at=ago(minutes), values={"systolic_mmhg": sys_, "diastolic_mmhg": dia}
        )
        charting_vitals.vitals_record(
            session=session, readings=[reading], source="manual", recorded_by=nurse
        )
    form = signed_in(prescriber).get(f"/patients/{patient_a.pk}/screenings/new/").context["form"]
    assert form.initial["systolic_mmhg"] == 182
    assert form.initial["diastolic_mmhg"] == 104


def test_without_a_reading_today_the_bp_is_left_to_type(patient_a, prescriber):
    form = signed_in(prescriber).get(f"/patients/{patient_a.pk}/screenings/new/").context["form"]
    assert "systolic_mmhg" not in form.initial
