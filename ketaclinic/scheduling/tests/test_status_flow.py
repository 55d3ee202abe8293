"""The status flow is an explicit table; illegal changes are refused and nothing changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import TRANSITIONS, Appointment, Status, clinic_datetime

from .conftest import MONDAY


@pytest.fixture
def appointment(calendar, front_desk, patients):
    response = signed_in(front_desk).post(
        "/api/v1/appointments",
        {
            "patient_id": patients[0].pk,
            "type": "iv_infusion",
            "starts_at": clinic_datetime(MONDAY, dt.time(9)).isoformat(),
        },
        content_type="application/json",
    )
    return Appointment.objects.get(pk=response.json()["id"])


def set_status(client, appointment, status):
    return client.post(
        f"/api/v1/appointments/{appointment.pk}/status",
        {"status": status},
        content_type="application/json",
    )


def today(appointment: Appointment) -> Appointment:
    """The visit moved (in the database) to now: check-in happens on the visit's own day."""
    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=now, ends_at=now + dt.timedelta(minutes=100)
    )
    appointment.refresh_from_db()
    return appointment


def test_the_whole_happy_path_is_recorded_step_by_step(appointment, nurse):
    today(appointment)
    client = signed_in(nurse)
    for status in ("confirmed", "checked_in", "in_session", "completed"):
        assert set_status(client, appointment, status).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == Status.COMPLETED
    steps = list(appointment.events.filter(kind="status").values_list("from_status", "to_status"))
    assert steps == [
        ("scheduled", "confirmed"),
        ("confirmed", "checked_in"),
        ("checked_in", "in_session"),
        ("in_session", "completed"),
    ]


@pytest.mark.parametrize(
    ("start", "illegal"),
    [
        ("scheduled", "completed"),
        ("scheduled", "in_session"),
        ("completed", "cancelled"),
        ("cancelled", "scheduled"),
        ("no_show", "checked_in"),
    ],
)
def test_illegal_changes_are_refused_with_a_422(appointment, nurse, start, illegal):
    Appointment.objects.filter(pk=appointment.pk).update(status=start)
    response = set_status(signed_in(nurse), appointment, illegal)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    appointment.refresh_from_db()
    assert appointment.status == start


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(Status.values)


def test_a_started_visit_cannot_be_moved(appointment, front_desk):
    Appointment.objects.filter(pk=appointment.pk).update(status="in_session")
    response = signed_in(front_desk).post(
        f"/api/v1/appointments/{appointment.pk}/move",
        {"starts_at": clinic_datetime(MONDAY, dt.time(11)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "cannot be moved" in response.json()["message"]
