"""Booking single visits: placed inside hours and shifts, never on a taken chair or lane."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentEvent,
    StaffAbsence,
    clinic_datetime,
)

from .conftest import MONDAY, signed_plan


def book(client, patient, when: dt.datetime, kind: str = "iv_infusion", **extra):
    body = {"patient_id": patient.pk, "type": kind, "starts_at": when.isoformat()} | extra
    return client.post("/api/v1/appointments", body, content_type="application/json")


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return clinic_datetime(day, dt.time(hour, minute))


def test_the_front_desk_books_an_infusion_into_a_chair_with_a_nurse(
    calendar, front_desk, nurse, patients
):
    response = book(signed_in(front_desk), patients[0], at(9))
    assert response.status_code == 201
    booked = Appointment.objects.get(pk=response.json()["id"])
    assert booked.chair == calendar["chairs"][0]
    assert booked.staff == nurse
    assert booked.ends_at - booked.starts_at == dt.timedelta(minutes=100)
    assert AppointmentEvent.objects.get(appointment=booked).kind == "booked"
    assert AuditEvent.objects.filter(action="appointment.book", patient_id=patients[0].pk).exists()


def test_a_second_booking_on_the_same_chair_and_time_answers_409_naming_the_first(
    calendar, front_desk, patients
):
    client = signed_in(front_desk)
    chair = calendar["chairs"][0].pk
    first = book(client, patients[0], at(9), chair_id=chair).json()
    response = book(client, patients[1], at(9, 30), chair_id=chair)
    assert response.status_code == 409
    body = response.json()
    assert "Chair 1 is booked then" in body["message"]
    assert [c["appointment_id"] for c in body["conflicts"]] == [first["id"]]
    assert Appointment.objects.count() == 1


def test_a_nurse_watches_at_most_the_policy_number_of_chairs(calendar, front_desk, patients, nurse):
    client = signed_in(front_desk)
    # Two chairs, three lanes: the third patient finds no chair, not a free nurse.
    assert book(client, patients[0], at(9)).status_code == 201
    assert book(client, patients[1], at(9)).status_code == 201
    third = book(client, patients[2], at(9))
    assert third.status_code == 409
    assert "no suitable chair is free" in third.json()["message"]


def test_a_visit_outside_opening_hours_is_refused(calendar, front_desk, patients):
    response = book(signed_in(front_desk), patients[0], at(17))
    assert response.status_code == 409
    assert "not inside opening hours" in response.json()["message"]
    saturday = book(signed_in(front_desk), patients[0], at(10, day=MONDAY + dt.timedelta(days=5)))
    assert saturday.status_code == 409
    assert "closed" in saturday.json()["message"]


def test_an_absent_nurse_is_not_booked(calendar, front_desk, patients, nurse):
    StaffAbsence.objects.create(user=nurse, starts_at=at(8), ends_at=at(13), reason="training")
    response = book(signed_in(front_desk), patients[0], at(9))
    assert response.status_code == 409
    assert "no staff member with the right role is free" in response.json()["message"]
    assert book(signed_in(front_desk), patients[0], at(13)).status_code == 201


def test_esketamine_needs_a_prescriber_on_site_for_the_whole_visit(
    calendar, front_desk, prescriber
):
    patient = make_patient("Spray", "Course")
    signed_plan(patient, prescriber, route="esketamine")
    prescriber.shifts.filter(weekday=0).update(ends_at=dt.time(10))
    response = book(signed_in(front_desk), patient, at(9), kind="esketamine")
    assert response.status_code == 409
    assert "no prescriber is on site" in response.json()["message"]
    assert (
        book(signed_in(front_desk), patient, at(9), kind="esketamine", staff_id=None).status_code
        == 409
    )


def test_the_database_itself_refuses_an_overlap_the_app_did_not_check(
    calendar, patients, nurse, front_desk
):
    booked = book(signed_in(front_desk), patients[0], at(9)).json()
    first = Appointment.objects.get(pk=booked["id"])
    clash = Appointment(
        patient=patients[1],
        type=first.type,
        starts_at=at(10),
        ends_at=at(11),
        chair=first.chair,
        created_by=front_desk,
    )
    with pytest.raises(DatabaseError, match="appointment_chair_no_overlap"), transaction.atomic():
        clash.save()
    lane_clash = Appointment(
        patient=patients[1],
        type=first.type,
        starts_at=at(10),
        ends_at=at(11),
        lane=first.lane,
        created_by=front_desk,
    )
    with pytest.raises(DatabaseError, match="appointment_lane_no_overlap"), transaction.atomic():
        lane_clash.save()
    assert Appointment.objects.count() == 1


def test_a_cancelled_visit_frees_its_chair(calendar, front_desk, patients):
    client = signed_in(front_desk)
    chair = calendar["chairs"][0].pk
    first = book(client, patients[0], at(9), chair_id=chair).json()
    cancelled = client.post(
        f"/api/v1/appointments/{first['id']}/cancel",
        {"status": "cancelled", "reason": "unwell"},
        content_type="application/json",
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert book(client, patients[1], at(9), chair_id=chair).status_code == 201


def test_an_unknown_type_is_a_422_naming_the_field(calendar, front_desk, patients):
    response = book(signed_in(front_desk), patients[0], at(9), kind="massage")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "type", "message": "Unknown appointment type 'massage'."}
    ]


def test_a_patient_cannot_book_or_see_another_patients_visit(
    calendar, front_desk, patient_a, patient_b, prescriber
):
    signed_plan(patient_b, prescriber)
    booked = book(signed_in(front_desk), patient_b, at(9)).json()
    client = signed_in(patient_a.user)
    assert book(client, patient_b, at(11)).status_code == 404
    assert client.get(f"/api/v1/appointments/{booked['id']}").status_code == 404
    assert client.get("/api/v1/appointments", {"date": str(MONDAY)}).status_code == 403
