"""A session opens from a checked-in treatment visit (appointment page or the chart), and the
chart's Sessions tab lists every session with the dose delivered and its alerts. Integration
notes follow a discharged session."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import Outcome
from ketaclinic.charting import administration_service, discharge_service, vitals_service
from ketaclinic.charting.models import (
    AdverseEvent,
    IntegrationNote,
    SafetyAlert,
    SessionStatus,
    SideEffect,
    TreatmentSession,
)
from ketaclinic.charting.tabs import session_rows
from ketaclinic.charting.tests.session_makers import (
    ago,
    checked_in_visit,
    last_event,
    open_session,
    plan_for,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Status


@pytest.fixture
def visit(patient_a, prescriber, nurse):
    plan_for(patient_a, prescriber)
    return checked_in_visit(patient_a, nurse)


def test_a_nurse_opens_the_session_of_a_checked_in_visit(visit, nurse):
    response = signed_in(nurse).post(f"/sessions/open/{visit.pk}/")

    session = TreatmentSession.objects.get(appointment=visit)
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/"
    assert (session.status, session.route, session.planned_dose_mg) == ("checklist", "iv", 35)
    assert last_event("session.open").detail["appointment"] == visit.pk


def test_opening_twice_goes_to_the_same_session(visit, nurse):
    client = signed_in(nurse)
    first = client.post(f"/sessions/open/{visit.pk}/")
    second = client.post(f"/sessions/open/{visit.pk}/")

    assert first["Location"] == second["Location"]
    assert TreatmentSession.objects.count() == 1


def test_a_visit_not_checked_in_is_refused_with_the_reason(visit, nurse):
    visit.status = Status.CONFIRMED
    visit.save(update_fields=["status"])

    response = signed_in(nurse).post(f"/sessions/open/{visit.pk}/")

    assert response.status_code == 422
    assert "Check the patient in before opening the session." in response.content.decode()
    assert not TreatmentSession.objects.exists()
    assert last_event("session.open").outcome == Outcome.INVALID


def test_the_appointment_page_offers_to_open_the_session(visit, nurse, front_desk):
    body = signed_in(nurse).get(f"/calendar/appointments/{visit.pk}/").content.decode()

    assert f'action="/sessions/open/{visit.pk}/"' in body
    assert (
        "Open session"
        not in signed_in(front_desk).get(f"/calendar/appointments/{visit.pk}/").content.decode()
    )


def test_outsiders_and_other_roles_cannot_open(visit, outsider, front_desk, therapist):
    assert signed_in(outsider).post(f"/sessions/open/{visit.pk}/").status_code == 404
    assert signed_in(front_desk).post(f"/sessions/open/{visit.pk}/").status_code == 403
    assert signed_in(therapist).post(f"/sessions/open/{visit.pk}/").status_code == 403
    assert signed_in(outsider).post("/sessions/open/999999/").status_code == 404
    assert not TreatmentSession.objects.exists()


def test_the_sessions_tab_lists_sessions_with_dose_and_alerts(patient_a, prescriber, nurse):
    session = started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=50)
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="stop", at=ago(10)
    )
    vitals_service.vitals_enter(
        request=request_by(nurse),
        session=session,
        values={"systolic_mmhg": 190, "diastolic_mmhg": 100},
        at=ago(5),
    )

    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/sessions/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/sessions/{session.pk}/"' in body
    assert "<strong>35.2 mg</strong>" in body
    assert "1 open" in body
    assert last_event("patient.view").detail == {"section": "sessions"}


def test_each_row_counts_its_own_alerts_side_effects_and_adverse_events(
    patient_a, prescriber, nurse
):
    quiet = started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=90)
    busy = TreatmentSession.objects.get(pk=quiet.pk)
    busy.pk, busy.appointment, busy.chair, busy.session_number = None, None, None, 2
    busy.save()
    SafetyAlert.objects.create(
        session=busy,
        code="spo2_low",
        level="critical",
        action="a",
        basis="b",
        finding="f",
        raised_at=ago(20),
        acknowledged_by=nurse,
        acknowledged_at=ago(19),
        action_taken="O2",
    )
    SafetyAlert.objects.create(
        session=busy,
        code="bp_high",
        level="warning",
        action="a",
        basis="b",
        finding="f",
        raised_at=ago(10),
    )
    SideEffect.objects.create(session=busy, code="nausea", severity="mild")
    SideEffect.objects.create(
        session=busy,
        code="dizziness",
        severity="mild",
        status="entered_in_error",
        error_reason="wrong patient",
    )
    AdverseEvent.objects.create(session=busy, description="Vomited twice")

    rows = {row.session.pk: row for row in session_rows(TreatmentSession.objects.all())}

    counts = lambda row: (  # noqa: E731
        row.alerts,
        row.open_alerts,
        row.critical_alerts,
        row.side_effects,
        row.adverse_events,
    )
    assert counts(rows[busy.pk]) == (2, 1, 1, 1, 1)
    assert counts(rows[quiet.pk]) == (0, 0, 0, 0, 0)
    assert rows[quiet.pk].delivered_mg is not None
    body = signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/sessions/").content.decode()
    assert "2 (1 critical)" in body
    assert busy.plan.protocol.name in body


def test_the_tab_offers_a_checked_in_visit_to_open(visit, patient_a, nurse):
    body = signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/sessions/").content.decode()

    assert f'action="/sessions/open/{visit.pk}/"' in body


def test_the_tab_is_not_shown_to_the_front_desk(patient_a, front_desk, outsider):
    assert signed_in(front_desk).get(f"/patients/{patient_a.pk}/tab/sessions/").status_code == 403
    assert signed_in(outsider).get(f"/patients/{patient_a.pk}/tab/sessions/").status_code == 404


def discharged(patient, prescriber, nurse):
    session = started(open_session(patient, prescriber, nurse), nurse, prescriber, minutes_ago=150)
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="stop", at=ago(110)
    )
    session.refresh_from_db()
    discharge_service.discharge_sign(
        request=request_by(nurse),
        session=session,
        criteria={
            "vitals_at_baseline": True,
            "alert_and_oriented": True,
            "little_or_no_nausea": True,
            "responsible_adult_present": True,
            "driving_instructions_given": True,
        },
        whom_to_call="Clinic line",
    )
    session.refresh_from_db()
    return session


def test_a_therapist_writes_the_integration_note_of_a_treatment(
    patient_a, prescriber, nurse, therapist
):
    session = discharged(patient_a, prescriber, nurse)

    response = signed_in(therapist).post(
        f"/sessions/{session.pk}/integration-notes/", {"note": "Processed imagery of the sea."}
    )

    assert response.status_code == 302
    note = IntegrationNote.objects.get(session=session)
    assert (note.therapist, note.note) == (therapist, "Processed imagery of the sea.")
    assert last_event("session.integration_note").actor == therapist
    assert (
        "Processed imagery of the sea."
        in signed_in(therapist).get(f"/sessions/{session.pk}/").content.decode()
    )


def test_a_nurse_cannot_write_integration_notes(patient_a, prescriber, nurse):
    session = discharged(patient_a, prescriber, nurse)

    assert (
        signed_in(nurse)
        .post(f"/sessions/{session.pk}/integration-notes/", {"note": "x"})
        .status_code
        == 403
    )
    assert not IntegrationNote.objects.exists()


def test_an_integration_note_follows_the_treatment(patient_a, prescriber, nurse, therapist):
    session = started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=50)
    assert session.status == SessionStatus.DOSING

    with pytest.raises(ValidationError) as refused:
        discharge_service.integration_note_write(
            request=request_by(therapist), session=session, note="early"
        )

    assert "follows the treatment" in refused.value.message_dict["status"][0]
