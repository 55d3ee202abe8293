"""A chair holds one running session: opening another there answers 409 naming it.

The check comes first with a clear message; a concurrent open that slips past it meets the
database constraint, which answers the same 409, never a 500. Every refusal is audited.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection, connections

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting import session_service
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tests.floor import make_chairs
from ketaclinic.charting.tests.session_makers import checked_in_visit, plan_for, request_by
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Appointment


@pytest.fixture
def chair(db):
    (chair,) = make_chairs(1)
    return chair


@pytest.fixture
def running(patient_a, prescriber, nurse, chair):
    """Patient A's session, still running in the chair."""
    plan_for(patient_a, prescriber)
    visit = checked_in_visit(patient_a, nurse)
    Appointment.objects.filter(pk=visit.pk).update(chair=chair)
    visit.refresh_from_db()
    return session_service.session_open(request=request_by(nurse), appointment=visit)


@pytest.fixture
def next_visit(running, patient_b, prescriber, nurse, chair):
    """Patient B, checked in for the chair's next slot while A's session runs late."""
    plan_for(patient_b, prescriber)
    visit = checked_in_visit(patient_b, nurse)
    slot = running.appointment.ends_at
    Appointment.objects.filter(pk=visit.pk).update(
        chair=chair, starts_at=slot, ends_at=slot + (visit.ends_at - visit.starts_at)
    )
    visit.refresh_from_db()
    return visit


def refusals():
    return AuditEvent.objects.filter(action="session.open", outcome=Outcome.REFUSED)


def test_the_page_answers_409_naming_the_chair_and_the_running_session(
    running, next_visit, nurse, chair, patient_a
):
    response = signed_in(nurse).post(f"/sessions/open/{next_visit.pk}/")

    assert response.status_code == 409
    body = response.content.decode()
    assert chair.name in body
    assert f"MRN {patient_a.mrn}" in body
    assert session_service.initials(patient_a) in body
    assert f"/sessions/{running.pk}/" in body
    assert not TreatmentSession.objects.filter(appointment=next_visit).exists()
    (event,) = refusals()
    assert event.patient_id == next_visit.patient_id
    assert event.detail["running_session"] == running.pk
    assert event.detail["chair"] == chair.pk


def test_the_api_answers_409_with_the_running_session(running, next_visit, nurse, patient_a):
    response = signed_in(nurse).post(
        "/api/v1/sessions", {"appointment_id": next_visit.pk}, content_type="application/json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["running_session_id"] == running.pk
    assert f"MRN {patient_a.mrn}" in body["message"]
    assert body["errors"][0]["field"] == "appointment_id"
    assert refusals().count() == 1


def test_the_api_opens_a_session_once_the_chair_is_free(running, next_visit, nurse):
    TreatmentSession.objects.filter(pk=running.pk).update(status=SessionStatus.DISCHARGED)
    client = signed_in(nurse)

    first = client.post(
        "/api/v1/sessions", {"appointment_id": next_visit.pk}, content_type="application/json"
    )
    again = client.post(
        "/api/v1/sessions", {"appointment_id": next_visit.pk}, content_type="application/json"
    )

    assert (first.status_code, again.status_code) == (201, 200)
    session = TreatmentSession.objects.get(appointment=next_visit)
    assert first.json()["id"] == again.json()["id"] == session.pk
    assert session.status == SessionStatus.CHECKLIST
    assert AuditEvent.objects.filter(action="session.open", object_id=str(session.pk)).exists()


def test_the_database_constraint_under_a_race_is_the_same_409(running, next_visit, nurse):
    # The check saw a free chair (another open had not committed yet); the insert then
    # meets the one-running-session-per-chair constraint.
    with (
        mock.patch.object(session_service, "running_in_chair", side_effect=[None, running]),
        pytest.raises(session_service.ChairBusy) as refused,
    ):
        session_service.session_open(request=request_by(nurse), appointment=next_visit)

    assert refused.value.other == running
    assert not TreatmentSession.objects.filter(appointment=next_visit).exists()
    assert refusals().count() == 1


def test_a_session_in_another_chair_blocks_nothing(running, next_visit, nurse):
    (other_chair,) = make_chairs(1, room="Second suite")
    Appointment.objects.filter(pk=next_visit.pk).update(chair=other_chair)
    next_visit.refresh_from_db()

    session = session_service.session_open(request=request_by(nurse), appointment=next_visit)

    assert session.chair == other_chair
    assert not refusals().exists()


def test_an_api_outsider_gets_404(running, next_visit, outsider):
    response = signed_in(outsider).post(
        "/api/v1/sessions", {"appointment_id": next_visit.pk}, content_type="application/json"
    )

    assert response.status_code == 404
    assert not refusals().exists()


def test_the_api_names_a_visit_that_is_not_checked_in(next_visit, nurse):
    Appointment.objects.filter(pk=next_visit.pk).update(status="scheduled")

    response = signed_in(nurse).post(
        "/api/v1/sessions", {"appointment_id": next_visit.pk}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "appointment"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's test database is one in-memory connection; IMMEDIATE serialises writers",
)
def test_two_opens_racing_for_one_chair_give_one_session_and_one_409(
    transactional_db, patient_a, patient_b, prescriber, nurse, chair
):
    visits = []
    for number, patient in enumerate((patient_a, patient_b)):
        plan_for(patient, prescriber)
        visit = checked_in_visit(patient, nurse)
        start = visit.starts_at + number * (visit.ends_at - visit.starts_at)
        Appointment.objects.filter(pk=visit.pk).update(
            chair=chair, starts_at=start, ends_at=start + (visit.ends_at - visit.starts_at)
        )
        visit.refresh_from_db()
        visits.append(visit)
    both_checked = threading.Barrier(2)
    check = session_service.running_in_chair
    outcomes: list[str] = []

    def checked_together(*args, **kwargs):
        found = check(*args, **kwargs)
        if kwargs.get("besides") is None:
            both_checked.wait(timeout=10)  # both saw a free chair before either inserts
        return found

    def open_visit(visit) -> None:
        try:
            session_service.session_open(request=request_by(nurse), appointment=visit)
            outcomes.append("opened")
        except session_service.ChairBusy:
            outcomes.append("409")
        finally:
            connections.close_all()

    with mock.patch.object(session_service, "running_in_chair", side_effect=checked_together):
        threads = [threading.Thread(target=open_visit, args=(v,)) for v in visits]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(outcomes) == ["409", "opened"]
    assert TreatmentSession.objects.filter(chair=chair).count() == 1
    assert refusals().count() == 1
