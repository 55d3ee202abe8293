"""Edge inputs never answer 500: dates in year 1 or 9999 and integers past 2^63 are a 422
naming the field on the API (the standard error body) and a 404 or form error on pages."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Appointment

HUGE = 2**64 + 7


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def assert_error_on(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) >= {"message", "errors"}
    assert field in {error["field"] for error in body["errors"]}, body


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_day_list_refuses_dates_off_the_calendar(calendar, front_desk, day):
    response = signed_in(front_desk).get("/api/v1/appointments", {"date": day})
    assert_error_on(response, "date")


@pytest.mark.parametrize("field", ["staff_id", "chair_id"])
def test_the_day_list_refuses_ids_past_64_bits(calendar, front_desk, field):
    response = signed_in(front_desk).get(
        "/api/v1/appointments", {"date": "2027-03-01", field: str(HUGE)}
    )
    assert_error_on(response, field)


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:30:00-05:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59"]
)
def test_booking_refuses_a_start_off_the_calendar(calendar, front_desk, patients, moment):
    body = {"patient_id": patients[0].pk, "type": "follow_up", "starts_at": moment}
    assert_error_on(post(signed_in(front_desk), "/api/v1/appointments", body), "starts_at")
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("field", ["patient_id", "chair_id", "staff_id"])
def test_booking_refuses_ids_past_64_bits(calendar, front_desk, patients, field):
    body = {
        "patient_id": patients[0].pk,
        "type": "follow_up",
        "starts_at": "2027-03-01T09:00:00",
        field: HUGE,
    }
    assert_error_on(post(signed_in(front_desk), "/api/v1/appointments", body), field)


def test_a_course_dated_9999_is_a_422(calendar, front_desk, patients):
    body = {"type": "iv_infusion", "visits": [{"number": 1, "date": "9999-12-31"}]}
    response = post(signed_in(front_desk), f"/api/v1/patients/{patients[0].pk}/courses", body)
    assert_error_on(response, "visits.0.date")


def test_a_course_visit_time_in_9999_is_a_422(calendar, front_desk, patients):
    visit = {"number": 1, "date": "2027-03-01", "starts_at": "9999-12-31T09:00:00"}
    body = {"type": "iv_infusion", "visits": [visit]}
    response = post(signed_in(front_desk), f"/api/v1/patients/{patients[0].pk}/courses", body)
    assert_error_on(response, "visits.0.starts_at")


def test_moving_to_9999_is_a_422(calendar, front_desk, patients):
    client = signed_in(front_desk)
    booked = post(
        client,
        "/api/v1/appointments",
        {"patient_id": patients[0].pk, "type": "follow_up", "starts_at": "2027-03-01T09:00:00"},
    ).json()
    response = post(
        client, f"/api/v1/appointments/{booked['id']}/move", {"starts_at": "9999-12-31T09:00"}
    )
    assert_error_on(response, "starts_at")
    huge_chair = post(
        client,
        f"/api/v1/appointments/{booked['id']}/move",
        {"starts_at": "2027-03-01T10:00", "chair_id": HUGE},
    )
    assert_error_on(huge_chair, "chair_id")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"/api/v1/appointments/{HUGE}"),
        ("post", f"/api/v1/appointments/{HUGE}/move"),
        ("post", f"/api/v1/appointments/{HUGE}/status"),
        ("post", f"/api/v1/appointments/{HUGE}/cancel"),
        ("post", f"/api/v1/appointments/{HUGE}/undo-check-in"),
        ("post", f"/api/v1/patients/{HUGE}/courses"),
        ("get", f"/api/v1/patients/{HUGE}/appointments"),
    ],
)
def test_path_ids_past_64_bits_are_not_found_or_invalid(calendar, front_desk, method, url):
    client = signed_in(front_desk)
    body = {"starts_at": "2027-03-01T10:00", "status": "confirmed", "reason": "x"}
    response = (
        getattr(client, method)(url, body, content_type="application/json")
        if method == "post"
        else client.get(url)
    )
    assert response.status_code in (404, 422), response.content
    assert "message" in response.json()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_calendar_pages_off_the_calendar_are_not_found(calendar, front_desk, nurse, day):
    client = signed_in(front_desk)
    assert client.get("/calendar/", {"date": day}).status_code == 404
    assert client.get(f"/calendar/staff/{nurse.pk}/", {"week": day}).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/calendar/staff/{HUGE}/",
        f"/calendar/appointments/{HUGE}/",
        f"/calendar/patients/{HUGE}/book/",
        f"/calendar/patients/{HUGE}/course/",
        f"/calendar/patients/{HUGE}/courses/plan-1/",
    ],
)
def test_calendar_pages_with_ids_past_64_bits_are_not_found(calendar, front_desk, url):
    assert signed_in(front_desk).get(url).status_code == 404


def test_the_booking_page_gives_a_form_error_for_year_9999(calendar, front_desk, patients):
    response = signed_in(front_desk).post(
        f"/calendar/patients/{patients[0].pk}/book/",
        {"type": calendar["types"]["follow_up"].pk, "date": "9999-12-31", "time": "09:00"},
    )
    assert response.status_code == 422
    assert "outside the clinic&#x27;s calendar" in response.content.decode()


def test_the_course_page_gives_a_form_error_for_year_9999(calendar, front_desk, patients):
    response = signed_in(front_desk).post(
        f"/calendar/patients/{patients[0].pk}/course/",
        {"type": calendar["types"]["iv_infusion"].pk, "dates": "9999-12-31", "check": "1"},
    )
    assert response.status_code == 422
    assert "outside the clinic&#x27;s calendar" in response.content.decode()


def test_reading_one_appointment_is_audited(calendar, front_desk, nurse, patients, outsider):
    booked = post(
        signed_in(front_desk),
        "/api/v1/appointments",
        {"patient_id": patients[0].pk, "type": "follow_up", "starts_at": "2027-03-01T09:00:00"},
    ).json()
    response = signed_in(nurse).get(f"/api/v1/appointments/{booked['id']}")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="appointment.view")
    assert (event.actor, event.patient_id, event.object_id) == (
        nurse,
        patients[0].pk,
        str(booked["id"]),
    )
    assert signed_in(outsider).get(f"/api/v1/appointments/{booked['id']}").status_code == 404


def test_the_day_list_writes_one_audit_row_naming_the_patients(calendar, front_desk, patients):
    client = signed_in(front_desk)
    for patient, hour in zip(patients[:2], ("09", "13"), strict=True):
        post(
            client,
            "/api/v1/appointments",
            {
                "patient_id": patient.pk,
                "type": "follow_up",
                "starts_at": f"2027-03-01T{hour}:00:00",
            },
        )
    response = client.get("/api/v1/appointments", {"date": "2027-03-01"})
    assert response.status_code == 200
    assert len(response.json()) == 2
    [event] = AuditEvent.objects.filter(action="appointment.list")
    assert event.detail["date"] == "2027-03-01"
    assert event.detail["patients"] == sorted(p.pk for p in patients[:2])
