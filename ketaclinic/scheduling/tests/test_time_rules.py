"""Time rules: nothing is booked or moved into the past; check-in happens on the visit's own
clinic-local day; a check-in can be undone, with a reason, back to what the visit was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling import services
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    Status,
    clinic_datetime,
)

from .conftest import MONDAY


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def book(client, patient, when: dt.datetime, kind: str = "iv_infusion"):
    body = {"patient_id": patient.pk, "type": kind, "starts_at": when.isoformat()}
    return post(client, "/api/v1/appointments", body)


@pytest.fixture
def visit(calendar, front_desk, patients) -> Appointment:
    response = book(signed_in(front_desk), patients[0], clinic_datetime(MONDAY, dt.time(9)))
    return Appointment.objects.get(pk=response.json()["id"])


def on_today(appointment: Appointment, status: str = Status.SCHEDULED) -> Appointment:
    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=now, ends_at=now + dt.timedelta(minutes=100), status=status
    )
    appointment.refresh_from_db()
    return appointment


def test_a_booking_in_the_past_is_a_422_on_starts_at(calendar, front_desk, patients):
    yesterday = timezone.now() - dt.timedelta(days=1)
    response = book(signed_in(front_desk), patients[0], yesterday, kind="follow_up")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "starts_at"
    assert "has already passed" in error["message"]
    assert not Appointment.objects.exists()


def test_a_move_into_the_past_is_a_422_and_nothing_moves(visit, front_desk):
    response = post(
        signed_in(front_desk),
        f"/api/v1/appointments/{visit.pk}/move",
        {"starts_at": (timezone.now() - dt.timedelta(hours=2)).isoformat()},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "starts_at"
    before = visit.starts_at
    visit.refresh_from_db()
    assert visit.starts_at == before


def test_a_course_with_a_past_date_is_a_422_on_visits(calendar, prescriber, patients):
    past = timezone.localdate() - dt.timedelta(days=3)
    response = post(
        signed_in(prescriber),
        f"/api/v1/patients/{patients[0].pk}/courses",
        {
            "type": "iv_infusion",
            "visits": [{"number": 1, "date": str(past)}],
            "override_reason": "testing",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "visits"
    assert "has already passed" in response.json()["errors"][0]["message"]


def test_the_demo_replay_books_as_of_the_moment_it_replays(calendar, front_desk, patients):
    """``now`` is the moment the action is taken: a replay of last month books last month."""
    request = RequestFactory().post("/")
    request.user = front_desk
    kind = AppointmentType.objects.get(code="follow_up")
    last_monday = MONDAY - dt.timedelta(days=28)
    booked = services.appointment_book(
        request=request,
        patient=patients[0],
        kind=kind,
        starts_at=clinic_datetime(last_monday, dt.time(9)),
        now=clinic_datetime(last_monday, dt.time(7)),
    )
    assert booked.created_at == clinic_datetime(last_monday, dt.time(7))
    services.appointment_transition(
        request=request,
        appointment=booked,
        to=Status.CHECKED_IN,
        now=clinic_datetime(last_monday, dt.time(8, 50)),
    )
    assert booked.events.get(kind="status").at == clinic_datetime(last_monday, dt.time(8, 50))


def test_check_in_on_another_day_is_refused(visit, nurse):
    response = post(
        signed_in(nurse), f"/api/v1/appointments/{visit.pk}/status", {"status": "checked_in"}
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "status"
    assert "only possible on the visit's own day (Mon 01 Mar 2027)" in error["message"]
    visit.refresh_from_db()
    assert visit.status == Status.SCHEDULED


def test_check_in_judges_the_day_in_the_clinics_zone(visit, front_desk):
    request = RequestFactory().post("/")
    request.user = front_desk
    # 23:30 in New York on the visit's day is already the next day in UTC: still that day.
    late = clinic_datetime(MONDAY, dt.time(23, 30))
    services.appointment_transition(request=request, appointment=visit, to="checked_in", now=late)
    assert visit.status == Status.CHECKED_IN


def test_a_check_in_is_undone_back_to_confirmed_with_a_reason(visit, nurse):
    client = signed_in(nurse)
    on_today(visit)
    url = f"/api/v1/appointments/{visit.pk}/status"
    assert post(client, url, {"status": "confirmed"}).status_code == 200
    assert post(client, url, {"status": "checked_in"}).status_code == 200
    response = post(
        client, f"/api/v1/appointments/{visit.pk}/undo-check-in", {"reason": "Wrong patient"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    visit.refresh_from_db()
    assert visit.status == Status.CONFIRMED
    event = AppointmentEvent.objects.get(appointment=visit, kind="check_in_undone")
    assert (event.from_status, event.to_status) == ("checked_in", "confirmed")
    assert event.detail == {"reason": "Wrong patient"}
    audit = AuditEvent.objects.get(action="appointment.check_in_undone")
    assert audit.detail["reason"] == "Wrong patient"
    assert audit.patient_id == visit.patient_id


def test_undoing_a_check_in_needs_a_reason_and_goes_back_to_what_it_was(visit, nurse):
    client = signed_in(nurse)
    on_today(visit)
    url = f"/api/v1/appointments/{visit.pk}/status"
    assert post(client, url, {"status": "checked_in"}).status_code == 200
    no_reason = post(client, url, {"status": "scheduled"})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    wrong = post(client, url, {"status": "confirmed", "reason": "mistake"})
    assert wrong.status_code == 422
    assert "returns the visit to scheduled" in wrong.json()["errors"][0]["message"]
    blank = post(client, f"/api/v1/appointments/{visit.pk}/undo-check-in", {"reason": ""})
    assert blank.status_code == 422
    visit.refresh_from_db()
    assert visit.status == Status.CHECKED_IN
    assert post(client, url, {"status": "scheduled", "reason": "mistake"}).status_code == 200


def test_only_a_checked_in_visit_can_have_its_check_in_undone(visit, nurse):
    response = post(
        signed_in(nurse), f"/api/v1/appointments/{visit.pk}/undo-check-in", {"reason": "x"}
    )
    assert response.status_code == 422


def test_the_appointment_page_offers_undo_check_in_with_a_reason(visit, nurse, outsider):
    client = signed_in(nurse)
    on_today(visit)
    post(client, f"/api/v1/appointments/{visit.pk}/status", {"status": "checked_in"})
    page = client.get(f"/calendar/appointments/{visit.pk}/")
    html = page.content.decode()
    assert "Undo check-in (back to scheduled)" in html
    assert "Mark scheduled" not in html
    response = client.post(
        f"/calendar/appointments/{visit.pk}/status/",
        {"status": "scheduled", "reason": "Checked in the wrong patient"},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Status.SCHEDULED
    history = client.get(f"/calendar/appointments/{visit.pk}/").content.decode()
    assert "Check-in undone (Checked in → Scheduled): Checked in the wrong patient" in history
    assert signed_in(outsider).get(f"/calendar/appointments/{visit.pk}/").status_code == 404
