"""A whole course is booked in one step: every visit or none, with reasons for misses."""

from __future__ import annotations

import datetime as dt

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Appointment, ClosedDay, clinic_datetime

from .conftest import INDUCTION


def book_course(client, patient, dates, **visit_extra):
    visits = [{"number": n, "date": str(day)} | visit_extra for n, day in enumerate(dates, start=1)]
    return client.post(
        f"/api/v1/patients/{patient.pk}/courses",
        {"type": "iv_infusion", "visits": visits},
        content_type="application/json",
    )


def test_six_infusions_are_booked_together_in_one_course(calendar, front_desk, patients):
    response = book_course(signed_in(front_desk), patients[0], INDUCTION)
    assert response.status_code == 201
    booked = Appointment.objects.filter(patient=patients[0]).order_by("starts_at")
    assert [a.local_start.date() for a in booked] == INDUCTION
    assert [a.course_number for a in booked] == [1, 2, 3, 4, 5, 6]
    assert len({a.course_key for a in booked}) == 1
    assert all(a.local_start.time() == dt.time(8) for a in booked)
    assert AuditEvent.objects.filter(action="appointment.book").count() == 6


def test_nothing_is_booked_when_one_date_cannot_be_placed(calendar, front_desk, patients):
    ClosedDay.objects.create(date=INDUCTION[3], reason="Staff training day")
    response = book_course(signed_in(front_desk), patients[0], INDUCTION)
    assert response.status_code == 409
    body = response.json()
    assert body["message"].startswith("Nothing was booked: 1 visit(s)")
    assert body["unplaced"] == [
        {
            "number": 4,
            "date": str(INDUCTION[3]),
            "reason": "the clinic is closed: Staff training day",
        }
    ]
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.get(action="course.book").outcome == "refused"


def test_a_full_day_is_named_as_the_reason(calendar, front_desk, patients, nurse):
    client = signed_in(front_desk)
    # Fill both chairs all day on the third date: 100-minute visits leave no 100-minute gap.
    day = INDUCTION[2]
    for patient in patients[1:3]:
        for at in ("08:00", "09:45", "11:30", "13:15", "15:00"):
            start = clinic_datetime(day, dt.time.fromisoformat(at))
            client.post(
                "/api/v1/appointments",
                {"patient_id": patient.pk, "type": "iv_infusion", "starts_at": start.isoformat()},
                content_type="application/json",
            )
    before = Appointment.objects.count()
    response = book_course(client, patients[0], INDUCTION)
    assert response.status_code == 409
    [miss] = response.json()["unplaced"]
    assert miss["number"] == 3
    assert "booked" in miss["reason"] or "free" in miss["reason"]
    assert Appointment.objects.count() == before


def test_the_desk_can_fix_a_visit_to_a_chosen_time(calendar, front_desk, patients):
    client = signed_in(front_desk)
    visits = [{"number": n, "date": str(day)} for n, day in enumerate(INDUCTION, start=1)]
    visits[1]["starts_at"] = f"{INDUCTION[1]}T13:30:00"
    response = client.post(
        f"/api/v1/patients/{patients[0].pk}/courses",
        {"type": "iv_infusion", "visits": visits},
        content_type="application/json",
    )
    assert response.status_code == 201
    second = Appointment.objects.get(patient=patients[0], course_number=2)
    assert second.local_start.time() == dt.time(13, 30)


def test_moving_one_visit_leaves_the_rest_of_the_course_in_place(calendar, front_desk, patients):
    client = signed_in(front_desk)
    book_course(client, patients[0], INDUCTION)
    course = list(Appointment.objects.filter(patient=patients[0]).order_by("course_number"))
    before = {a.pk: (a.starts_at, a.chair_id) for a in course}
    target = clinic_datetime(INDUCTION[2] - dt.timedelta(days=1), dt.time(11))  # a Thursday
    response = client.post(
        f"/api/v1/appointments/{course[2].pk}/move",
        {"starts_at": target.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200
    course[2].refresh_from_db()
    assert course[2].starts_at == target
    assert course[2].events.filter(kind="moved").count() == 1
    for appointment in course:
        if appointment.pk != course[2].pk:
            appointment.refresh_from_db()
            assert (appointment.starts_at, appointment.chair_id) == before[appointment.pk]


def test_a_booked_course_keeps_its_wall_clock_time_across_the_dst_change(
    calendar, prescriber, patients
):
    # America/New_York springs forward on Sunday 2027-03-14. The dates are not the plan's:
    # the prescriber books them by override.
    dates = [dt.date(2027, 3, d) for d in (10, 12, 15, 17)]
    visits = [
        {"number": n, "date": str(day), "starts_at": f"{day}T09:00:00"}
        for n, day in enumerate(dates, start=1)
    ]
    response = signed_in(prescriber).post(
        f"/api/v1/patients/{patients[0].pk}/courses",
        {"type": "iv_infusion", "visits": visits, "override_reason": "Patient travels first week"},
        content_type="application/json",
    )
    assert response.status_code == 201
    booked = Appointment.objects.filter(patient=patients[0]).order_by("starts_at")
    assert {a.local_start.time() for a in booked} == {dt.time(9)}
    utc_hours = [a.starts_at.astimezone(dt.UTC).hour for a in booked]
    assert utc_hours == [14, 14, 13, 13]
