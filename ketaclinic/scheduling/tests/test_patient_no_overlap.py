"""A patient is never in two visits at once: the service names the other visit (409) and the
database refuses the overlap itself (exclusion constraint / trigger). Cancelled and no-show
visits do not count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling import guards
from ketaclinic.scheduling.models import Appointment, AppointmentType, clinic_datetime

from .conftest import INDUCTION, MONDAY


def book(client, patient, when, kind: str = "iv_infusion", day=None, **extra):
    if day is not None:  # ``when`` is then a wall-clock time on ``day``
        when = clinic_datetime(day, when.timetz().replace(tzinfo=None))
    body = {"patient_id": patient.pk, "type": kind, "starts_at": when.isoformat()} | extra
    return client.post("/api/v1/appointments", body, content_type="application/json")


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return clinic_datetime(day, dt.time(hour, minute))


def test_the_same_patient_in_a_second_chair_at_the_same_time_is_a_409_naming_the_first(
    calendar, front_desk, patients
):
    client = signed_in(front_desk)
    chair_1, chair_2 = (c.pk for c in calendar["chairs"])
    first = book(client, patients[0], at(9), chair_id=chair_1).json()
    response = book(client, patients[0], at(9, 30), chair_id=chair_2)
    assert response.status_code == 409
    body = response.json()
    assert body["message"] == (
        "Pat0 Course0 already has IV ketamine infusion at Mon 01 Mar 2027 09:00 "
        "in Infusion suite · Chair 1."
    )
    assert [c["appointment_id"] for c in body["conflicts"]] == [first["id"]]
    assert Appointment.objects.filter(patient=patients[0]).count() == 1


def test_a_consultation_during_an_infusion_is_refused_too(calendar, front_desk, patients):
    client = signed_in(front_desk)
    assert book(client, patients[0], at(9)).status_code == 201
    response = book(client, patients[0], at(10), kind="follow_up")
    assert response.status_code == 409
    assert "already has IV ketamine infusion" in response.json()["message"]


def test_back_to_back_visits_of_one_patient_are_fine(calendar, front_desk, patients):
    client = signed_in(front_desk)
    assert book(client, patients[0], at(9)).status_code == 201
    # The infusion ends at 10:40: the follow-up starts when it ends.
    assert book(client, patients[0], at(10, 40), kind="follow_up").status_code == 201


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_a_cancelled_or_missed_visit_does_not_block_the_patient(
    calendar, front_desk, patients, status
):
    client = signed_in(front_desk)
    first = book(client, patients[0], at(9), chair_id=calendar["chairs"][0].pk).json()
    Appointment.objects.filter(pk=first["id"]).update(status=status)
    assert book(client, patients[0], at(9), chair_id=calendar["chairs"][1].pk).status_code == 201


def test_moving_a_visit_onto_the_patients_other_visit_is_a_409(calendar, front_desk, patients):
    client = signed_in(front_desk)
    infusion = book(client, patients[0], at(9)).json()
    follow_up = book(client, patients[0], at(13), kind="follow_up").json()
    response = client.post(
        f"/api/v1/appointments/{follow_up['id']}/move",
        {"starts_at": at(10).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "already has IV ketamine infusion at Mon 01 Mar 2027 09:00" in response.json()["message"]
    assert [c["appointment_id"] for c in response.json()["conflicts"]] == [infusion["id"]]
    assert Appointment.objects.get(pk=follow_up["id"]).starts_at == at(13)


def test_a_course_visit_on_top_of_the_patients_booked_visit_is_unplaced_with_the_reason(
    calendar, front_desk, patients
):
    client = signed_in(front_desk)
    book(client, patients[0], at(8), kind="follow_up", day=INDUCTION[1])
    visits = [{"number": n, "date": str(day)} for n, day in enumerate(INDUCTION, start=1)]
    visits[1]["starts_at"] = f"{INDUCTION[1]}T08:00:00"
    response = client.post(
        f"/api/v1/patients/{patients[0].pk}/courses",
        {"type": "iv_infusion", "visits": visits},
        content_type="application/json",
    )
    assert response.status_code == 409
    [miss] = response.json()["unplaced"]
    assert miss["number"] == 2
    assert miss["reason"].startswith("Pat0 Course0 already has Follow-up at Wed 03 Mar 2027 08:00")
    assert Appointment.objects.filter(patient=patients[0]).count() == 1


def test_automatic_course_placement_steps_around_the_patients_own_visit(
    calendar, front_desk, patients
):
    client = signed_in(front_desk)
    book(client, patients[0], at(8), kind="follow_up", day=INDUCTION[0])
    response = client.post(
        f"/api/v1/patients/{patients[0].pk}/courses", {}, content_type="application/json"
    )
    assert response.status_code == 201
    first = Appointment.objects.get(patient=patients[0], course_number=1)
    assert first.starts_at >= at(8, 30, day=INDUCTION[0])


def test_the_course_plan_never_puts_two_of_its_own_visits_on_the_patient_at_once(
    calendar, front_desk, patients
):
    kind = AppointmentType.objects.get(code="iv_infusion")
    from ketaclinic.scheduling import services

    items = [
        services.CourseItem(number=1, date=MONDAY, type=kind, starts_at=at(9)),
        services.CourseItem(
            number=2, date=MONDAY, type=kind, starts_at=at(9, 30), chair_id=calendar["chairs"][1].pk
        ),
        services.CourseItem(number=3, date=MONDAY, type=kind),
    ]
    planned = services.course_plan(items, patient=patients[0])
    first, second, third = (result for _, result in planned)
    assert first.starts_at == at(9)
    assert second.reason == "the patient has another visit then"
    assert third.starts_at >= at(10, 40)


def test_the_database_itself_refuses_one_patient_in_two_visits(calendar, front_desk, patients):
    booked = book(signed_in(front_desk), patients[0], at(9)).json()
    first = Appointment.objects.get(pk=booked["id"])
    clash = Appointment(
        patient=patients[0],
        type=first.type,
        starts_at=at(10),
        ends_at=at(11),
        chair=calendar["chairs"][1],
        created_by=front_desk,
    )
    with pytest.raises(DatabaseError, match="appointment_patient_no_overlap"), transaction.atomic():
        clash.save()
    clash.status = "cancelled"
    clash.save()  # a cancelled visit holds nothing
    clash.status = "scheduled"
    with pytest.raises(DatabaseError, match="appointment_patient_no_overlap"), transaction.atomic():
        clash.save(update_fields=["status"])
    assert Appointment.objects.holding().filter(patient=patients[0]).count() == 1


def test_the_patient_guard_can_be_removed_and_installed_again(calendar, front_desk, patients):
    """Migration 0004 is reversible: its statements drop and recreate just the patient guard."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in guards.statements(vendor, install=False, resources=guards.PATIENT_RESOURCES):
            cursor.execute(sql)
    client = signed_in(front_desk)
    assert book(client, patients[0], at(9)).status_code == 201
    first = Appointment.objects.get(patient=patients[0])
    Appointment.objects.create(
        patient=patients[0],
        type=first.type,
        starts_at=at(9),
        ends_at=at(10),
        status="cancelled",
        created_by=front_desk,
    )
    with connection.cursor() as cursor:
        if vendor == "postgresql":  # the test's transaction holds deferred foreign-key checks
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql in guards.statements(vendor, install=True, resources=guards.PATIENT_RESOURCES):
            cursor.execute(sql)
        cursor.execute(guards.overlapping_pairs_sql("patient"))
        assert cursor.fetchall() == []
    assert (
        book(client, patients[0], at(9, 30), chair_id=calendar["chairs"][1].pk).status_code == 409
    )


def test_a_refused_double_booking_writes_no_booking_audit_row(calendar, front_desk, patients):
    client = signed_in(front_desk)
    book(client, patients[0], at(9))
    book(client, patients[0], at(9), chair_id=calendar["chairs"][1].pk)
    assert AuditEvent.objects.filter(action="appointment.book").count() == 1
