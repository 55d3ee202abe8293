"""The calendar pages show the day by chair and a staff member's week; the iCal feed is
valid, private and revocable."""

from __future__ import annotations

import datetime as dt

import icalendar
from django.test import Client

from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import clinic_datetime

from .conftest import MONDAY


def book(client, patient, hour, kind="iv_infusion", day=MONDAY):
    return client.post(
        "/api/v1/appointments",
        {
            "patient_id": patient.pk,
            "type": kind,
            "starts_at": clinic_datetime(day, dt.time(hour)).isoformat(),
        },
        content_type="application/json",
    )


def test_the_day_view_shows_each_chair_and_its_visits(calendar, front_desk, patients):
    client = signed_in(front_desk)
    book(client, patients[0], 9)
    response = client.get("/calendar/", {"date": str(MONDAY)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Infusion suite · Chair 1" in html
    assert "Course0, P." in html
    assert "09:00" in html


def test_the_day_view_query_count_does_not_grow_with_bookings(
    calendar, front_desk, patients, django_assert_max_num_queries
):
    client = signed_in(front_desk)
    client.get("/calendar/", {"date": str(MONDAY)})
    for n, hour in enumerate((8, 10, 12)):
        book(client, patients[n], hour)
    with django_assert_max_num_queries(14):
        client.get("/calendar/", {"date": str(MONDAY)})


def test_a_staff_week_puts_overlapping_visits_side_by_side(calendar, front_desk, nurse, patients):
    client = signed_in(front_desk)
    book(client, patients[0], 9)
    book(client, patients[1], 9)
    response = client.get(f"/calendar/staff/{nurse.pk}/", {"week": str(MONDAY)})
    assert response.status_code == 200
    assert response.content.decode().count("width: calc(50.0% - 6px)") == 2


def test_patients_cannot_open_the_calendar(calendar, patient_a):
    assert signed_in(patient_a.user).get("/calendar/").status_code == 403


def test_the_ical_feed_is_valid_and_revocable(calendar, front_desk, nurse, patients):
    book(signed_in(front_desk), patients[0], 9)
    client = signed_in(nurse)
    page = client.post("/calendar/feed/", {"action": "create"})
    url = page.context["new_url"].split("8000", 1)[1]
    feed = Client().get(url)
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(feed.content)
    [event] = parsed.walk("VEVENT")
    assert str(event["summary"]) == "IV ketamine infusion (PC)"
    assert event.decoded("dtstart") == clinic_datetime(MONDAY, dt.time(9))
    assert "Course0" not in feed.content.decode(), "no patient names outside the clinic"

    client.post("/calendar/feed/", {"action": "revoke"})
    assert Client().get(url).status_code == 404
