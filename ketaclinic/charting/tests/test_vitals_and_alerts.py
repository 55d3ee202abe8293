"""Vital signs entered by hand go through the plausibility limits and the clinic's vital-sign
policy; alerts appear on the session page at once and are acknowledged by a named clinician
with what was done."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import Outcome
from ketaclinic.charting.models import SafetyAlert, VitalReading
from ketaclinic.charting.session_record import current_marker
from ketaclinic.charting.tests.session_makers import last_event, open_session, started
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=30)


def post_vitals(client, session, **values):
    return client.post(f"/sessions/{session.pk}/vitals/", values, HTTP_HX_REQUEST="true")


def test_a_hand_entered_reading_is_stored_and_shown(session, nurse):
    response = post_vitals(
        signed_in(nurse),
        session,
        systolic_mmhg=132,
        diastolic_mmhg=84,
        heart_rate_bpm=80,
        spo2_pct=97,
    )

    assert response.status_code == 200
    row = VitalReading.objects.filter(session=session).latest("id")
    assert (row.systolic_mmhg, row.diastolic_mmhg, row.source, row.recorded_by) == (
        132,
        84,
        "manual",
        nurse,
    )
    assert "BP 132/84" in response.content.decode()
    assert last_event("session.vitals").detail == {"readings": 1, "source": "manual", "alerts": []}


def test_a_high_blood_pressure_raises_an_alert_shown_at_once(session, nurse):
    response = post_vitals(signed_in(nurse), session, systolic_mmhg=186, diastolic_mmhg=104)

    assert response.status_code == 200
    (alert,) = SafetyAlert.objects.filter(session=session)
    assert (alert.code, alert.level, alert.is_open) == ("bp_high", "warning", True)
    body = response.content.decode()
    assert "ALERT WARNING: Blood pressure high." in body
    assert "bp_high" not in body
    assert f'id="alert-{alert.pk}"' in body
    assert "Basis:" in body


def test_an_implausible_reading_is_refused_with_the_field_and_not_stored(session, nurse):
    before = VitalReading.objects.count()

    response = post_vitals(
        signed_in(nurse), session, systolic_mmhg=120, diastolic_mmhg=80, spo2_pct=140
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-vitals-entry"
    assert "Oxygen saturation 140 is outside 50–100 %" in response.content.decode()
    assert VitalReading.objects.count() == before
    assert last_event("session.vitals").outcome == Outcome.INVALID


def test_an_empty_reading_is_refused(session, nurse):
    response = post_vitals(signed_in(nurse), session)

    assert response.status_code == 422
    assert "at least one vital sign" in response.content.decode()


def test_a_named_clinician_acknowledges_an_alert_with_what_was_done(session, nurse):
    post_vitals(signed_in(nurse), session, systolic_mmhg=186, diastolic_mmhg=104)
    alert = SafetyAlert.objects.get(session=session)

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/alerts/{alert.pk}/acknowledge/",
        {"action_taken": "Rechecked in 5 min; rate halved"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.action_taken) == (nurse, "Rechecked in 5 min; rate halved")
    assert alert.acknowledged_at is not None
    assert last_event("session.alert_acknowledged").detail["code"] == "bp_high"
    assert "Rechecked in 5 min; rate halved" in response.content.decode()


def test_an_acknowledgement_must_say_what_was_done(session, nurse):
    post_vitals(signed_in(nurse), session, systolic_mmhg=186, diastolic_mmhg=104)
    alert = SafetyAlert.objects.get(session=session)

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/alerts/{alert.pk}/acknowledge/",
        {"action_taken": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-alerts"
    alert.refresh_from_db()
    assert alert.is_open


def test_an_alert_of_another_session_is_not_found(session, nurse, patient_b, prescriber):
    other = started(open_session(patient_b, prescriber, nurse), nurse, prescriber, minutes_ago=30)
    post_vitals(signed_in(nurse), other, systolic_mmhg=186, diastolic_mmhg=104)
    alert = SafetyAlert.objects.get(session=other)

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/alerts/{alert.pk}/acknowledge/", {"action_taken": "x"}
    )

    assert response.status_code == 422
    alert.refresh_from_db()
    assert alert.is_open


def test_the_monitoring_poll_answers_204_when_nothing_changed(session, nurse):
    client = signed_in(nurse)
    response = client.get(f"/sessions/{session.pk}/")
    marker = current_marker(session)
    assert f"?since={marker}" in response.content.decode()

    assert client.get(f"/sessions/{session.pk}/monitoring/?since={marker}").status_code == 204
    post_vitals(client, session, heart_rate_bpm=130)
    fresh = client.get(f"/sessions/{session.pk}/monitoring/?since={marker}")
    assert fresh.status_code == 200
    assert 'hx-swap-oob="true"' in fresh.content.decode()
    assert "Heart rate high" in fresh.content.decode()  # the new alert, by its label


def test_outsiders_get_404(session, outsider, patient_b):
    assert post_vitals(signed_in(outsider), session, heart_rate_bpm=80).status_code == 404
    assert post_vitals(signed_in(patient_b.user), session, heart_rate_bpm=80).status_code == 404
    assert signed_in(outsider).get(f"/sessions/{session.pk}/monitoring/").status_code == 404
