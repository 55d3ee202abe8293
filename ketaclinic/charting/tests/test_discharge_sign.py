"""Discharge: criteria checklist, minimum observation from the protocol, written instructions
with the driving advice and whom to call, signed by the discharging clinician.

IV: 60 min after the infusion ends [NIMH trial]; esketamine: 2 h from the first device [label]
(charting/data/discharge.yaml).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import Outcome
from ketaclinic.charting import (
    administration_service,
    discharge_service,
    dose_service,
    safety,
    vitals_service,
)
from ketaclinic.charting.models import Discharge, SessionStatus
from ketaclinic.charting.tests.session_makers import (
    ago,
    last_event,
    open_session,
    rems_ready,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Status

ALL_MET = {c.code: True for c in safety.DEFAULT_DISCHARGE.criteria}
FORM = {**{code: "on" for code in ALL_MET}, "whom_to_call": "Clinic line 860-555-0100"}


def iv_stopped(patient, prescriber, nurse, *, stopped_minutes_ago: float):
    session = started(
        open_session(patient, prescriber, nurse),
        nurse,
        prescriber,
        minutes_ago=stopped_minutes_ago + 40,
    )
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="stop", at=ago(stopped_minutes_ago)
    )
    session.refresh_from_db()
    return session


def sign(session, user, criteria=ALL_MET, whom="Clinic line 860-555-0100"):
    return discharge_service.discharge_sign(
        request=request_by(user), session=session, criteria=criteria, whom_to_call=whom
    )


def test_a_signed_discharge_ends_the_session_and_completes_the_visit(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)

    response = signed_in(nurse).post(f"/sessions/{session.pk}/discharge/", FORM)

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCHARGED
    assert session.discharged_at is not None
    assert session.appointment.status == Status.COMPLETED
    discharge = Discharge.objects.get(session=session)
    assert discharge.signed_by == nurse
    assert discharge.observation_minutes == 65
    assert discharge.criteria == {c.code: True for c in safety.DEFAULT_DISCHARGE.criteria_for("iv")}
    assert (
        "No driving for the rest of the day. (source: 'Ketamine Therapy: Types, Therapeutic "
        "Uses, Benefits, and Side Effects' (2022))" in discharge.instructions
    )
    assert "Whom to call with questions or if you feel unwell: Clinic line 860-555-0100" in (
        discharge.instructions
    )
    assert "35.2 mg given" in discharge.instructions
    assert last_event("session.discharge_signed").detail["observation_minutes"] == 65
    assert last_event("session.discharged") is not None
    assert last_event("appointment.completed") is not None


def test_it_is_blocked_before_the_minimum_observation(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=30)

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse)

    (problem,) = refused.value.message_dict["__all__"]
    assert problem.startswith("Observation of 60 min from the end of the infusion: 30 min so far")
    session.refresh_from_db()
    assert session.status == SessionStatus.OBSERVATION
    assert not Discharge.objects.exists()
    assert last_event("session.discharge").outcome == Outcome.INVALID


@pytest.mark.parametrize(
    "criterion",
    sorted(safety.DEFAULT_DISCHARGE.criteria_for("iv"), key=lambda c: c.code),
    ids=lambda c: c.code,
)
def test_each_unmet_criterion_blocks(patient_a, prescriber, nurse, criterion):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse, criteria=ALL_MET | {criterion.code: False})

    assert refused.value.message_dict[criterion.code] == [f"not confirmed: {criterion.label}"]
    assert not Discharge.objects.exists()


def test_an_unacknowledged_alert_blocks(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)
    vitals_service.vitals_enter(
        request=request_by(nurse), session=session, values={"heart_rate_bpm": 124}, at=ago(20)
    )
    vitals_service.vitals_enter(
        request=request_by(nurse), session=session, values={"heart_rate_bpm": 84}, at=ago(10)
    )

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse)

    assert "Heart rate high alert at" in refused.value.message_dict["__all__"][0]
    assert "not acknowledged" in refused.value.message_dict["__all__"][0]


def test_a_critical_alert_in_force_blocks_even_when_acknowledged(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)
    _rows, (alert,) = vitals_service.vitals_enter(
        request=request_by(nurse), session=session, values={"spo2_pct": 86}, at=ago(5)
    )
    vitals_service.alert_acknowledge(
        request=request_by(nurse), session=session, alert=alert, action_taken="oxygen"
    )

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse)

    assert refused.value.message_dict["__all__"][0].startswith(
        "Critical alert in force: Oxygen saturation very low: 86% (limit 88)"
    )


def test_whom_to_call_is_required(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/discharge/", FORM | {"whom_to_call": ""}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-discharge"
    assert not Discharge.objects.exists()


def test_esketamine_is_blocked_until_two_hours_after_the_first_device(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "esketamine", opened_minutes_ago=200)
    rems_ready(patient_a, prescriber)
    started(session, nurse, prescriber, minutes_ago=125)
    first = ago(110)
    for minutes in (0, 5):
        administration_service.device_record(
            request=request_by(nurse), session=session, at=first + dt.timedelta(minutes=minutes)
        )
    dose_service.dose_end(
        request=request_by(nurse), session=session, at=first + dt.timedelta(minutes=6)
    )
    session.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse)

    problem = refused.value.message_dict["__all__"][0]
    assert problem.startswith("Observation of 120 min from the first device: 110 min so far")
    session.refresh_from_db()
    assert session.status == SessionStatus.OBSERVATION
    assert not Discharge.objects.exists()


def test_esketamine_instructions_say_no_driving_until_the_next_day(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "esketamine", opened_minutes_ago=200)
    rems_ready(patient_a, prescriber)
    started(session, nurse, prescriber, minutes_ago=190)
    administration_service.device_record(request=request_by(nurse), session=session, at=ago(185))
    administration_service.device_record(request=request_by(nurse), session=session, at=ago(180))
    dose_service.dose_end(request=request_by(nurse), session=session, at=ago(179))

    discharge = sign(session, prescriber)

    assert (
        "No driving until the next day, after a restful sleep. (source: Spravato label "
        "(prescribing information))" in discharge.instructions
    )
    assert discharge.observation_minutes == 185


def test_only_a_session_in_observation_is_discharged(patient_a, prescriber, nurse):
    session = started(
        open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=100
    )

    with pytest.raises(ValidationError) as refused:
        sign(session, nurse)

    assert "session is dosing" in refused.value.message_dict["status"][0]


def test_a_therapist_cannot_discharge_and_outsiders_get_404(
    patient_a, prescriber, nurse, therapist, outsider
):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)

    assert signed_in(therapist).post(f"/sessions/{session.pk}/discharge/", FORM).status_code == 403
    assert signed_in(outsider).post(f"/sessions/{session.pk}/discharge/", FORM).status_code == 404
    assert not Discharge.objects.exists()


def test_the_instructions_page_prints_them(patient_a, prescriber, nurse):
    session = iv_stopped(patient_a, prescriber, nurse, stopped_minutes_ago=65)
    sign(session, nurse)

    response = signed_in(nurse).get(f"/sessions/{session.pk}/discharge/instructions/")

    assert response.status_code == 200
    assert "No driving for the rest of the day." in response.content.decode()
    assert last_event("session.view").detail == {"section": "discharge-instructions"}
