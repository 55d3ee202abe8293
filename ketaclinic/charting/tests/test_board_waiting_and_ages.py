"""The board shows each vital sign with its own age (a temperature taken an hour ago is not
"just now"), and lists the patients checked in for a treatment visit whose session is not open
yet, with their chair, visit time and how long they have waited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.charting.board import (
    SessionFacts,
    WaitingFacts,
    board_rows,
    newest_values,
    waiting_rows,
)
from ketaclinic.charting.models import TreatmentSession, VitalReading
from ketaclinic.charting.tests.floor import make_chairs, make_session
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.scheduling import seed
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    OpeningHours,
    Status,
    clinic_datetime,
)

NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def ago(minutes: float, now: dt.datetime = NOW) -> dt.datetime:
    return now - dt.timedelta(minutes=minutes)


def facts(**overrides) -> SessionFacts:
    values = {
        "session_id": 7,
        "chair": "Chair 1",
        "room": "Suite",
        "given_name": "Ada",
        "family_name": "Alvarez",
        "mrn": "KC0000007",
        "route": "iv",
        "status": "dosing",
        "opened_at": ago(70),
        "dose_started_at": ago(60),
    }
    return SessionFacts(**(values | overrides))


# ---------------------------------------------------------------- the pure rows


def test_each_value_carries_its_own_age_when_older_than_the_newest_reading():
    latest = {
        "heart_rate_bpm": (84, ago(0)),
        "spo2_pct": (97, ago(0)),
        "systolic_mmhg": (142, ago(4)),
        "diastolic_mmhg": (88, ago(4)),
        "temperature_c": (37.2, ago(62)),
    }

    (row,) = board_rows([facts(latest=latest)], NOW)

    items = {item.label: item for item in row.last_vitals.items}
    assert list(items) == ["BP", "HR", "SpO₂", "Temp"]
    assert (items["HR"].carried, items["HR"].age_minutes) == (False, 0)
    assert (items["BP"].value, items["BP"].carried, items["BP"].age_minutes) == ("142/88", True, 4)
    assert (items["Temp"].carried, items["Temp"].age_minutes, items["Temp"].stale) == (
        True,
        62,
        True,
    )
    assert (row.last_vitals.age_minutes, row.last_vitals.stale) == (0, False)


def test_a_session_without_readings_has_no_vitals_cell():
    (row,) = board_rows([facts(latest={})], NOW)

    assert row.last_vitals is None


def test_a_waiting_row_shows_initials_chair_visit_time_and_minutes_waited():
    waiting = WaitingFacts(
        appointment_id=3,
        chair=None,
        room=None,
        given_name="Ben",
        family_name="Okafor",
        mrn="KC0000003",
        visit="IV ketamine infusion",
        starts_at=ago(5),
        checked_in_at=ago(75),
    )

    (row,) = waiting_rows([waiting], NOW)

    assert (row.patient, row.mrn, row.chair, row.visit) == (
        "B.O.",
        "KC0000003",
        "No chair",
        "IV ketamine infusion",
    )
    assert (row.waited_minutes, row.waited_text) == (75, "1 h 15 min")
    assert "Okafor" not in repr(row)
    (unknown,) = waiting_rows(
        [waiting.__class__(**(waiting.__dict__ | {"checked_in_at": None}))], NOW
    )
    assert unknown.waited_text == ""


# ---------------------------------------------------------------- the floor


def visit(patient, nurse, *, chair=None, code="iv_infusion", day=None, checked_in_ago=12):
    """A visit booked for noon of ``day`` (today by default), checked in minutes ago."""
    seed.seed(AppointmentType, OpeningHours)
    kind = AppointmentType.objects.get(code=code)
    start = clinic_datetime(day or timezone.localdate(), dt.time(12, 0))
    booked = Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        status=Status.CHECKED_IN,
        chair=chair,
        staff=nurse,
        created_by=nurse,
    )
    AppointmentEvent.objects.create(
        appointment=booked,
        at=timezone.now() - dt.timedelta(minutes=checked_in_ago),
        by=nurse,
        kind="status",
        from_status=Status.SCHEDULED,
        to_status=Status.CHECKED_IN,
    )
    return booked


def test_checked_in_patients_wait_on_the_board_until_their_session_opens(nurse, prescriber):
    (chair,) = make_chairs(1)
    waiting = make_patient("Waiting", "Okafor")
    booked = visit(waiting, nurse, chair=chair, checked_in_ago=12)
    visit(make_patient("Talking", "Consult"), nurse, code="consultation")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    visit(make_patient("Yesterday", "Stuck"), nurse, day=yesterday)
    client = signed_in(nurse)

    page = client.get("/board/").content.decode()

    assert "1 checked in, no session open yet" in page
    assert f'data-appointment="{booked.pk}"' in page
    assert waiting.mrn in page
    assert "W.O." in page
    assert "Okafor" not in page
    assert "12 min" in page
    assert "Consult" not in page
    assert "Stuck" not in page

    session = make_session(patient=waiting, prescriber=prescriber, nurse=nurse, chair=chair)
    TreatmentSession.objects.filter(pk=session.pk).update(appointment=booked)

    polled = client.get("/board/", headers={"HX-Request": "true"}).content.decode()
    assert f'data-appointment="{booked.pk}"' not in polled
    assert f'data-session="{session.pk}"' in polled
    assert "No one checked in is waiting." in polled


@pytest.mark.django_db
def test_the_newest_value_of_each_measurement_keeps_its_own_time(nurse, prescriber):
    (session,) = [
        make_session(
            patient=make_patient("Temp", "Taken"),
            prescriber=prescriber,
            nurse=nurse,
            chair=make_chairs(1)[0],
        )
    ]
    now = timezone.now()
    VitalReading.objects.create(
        session=session, source="manual", at=now - dt.timedelta(minutes=40), temperature_c="37.4"
    )
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            source="device",
            at=now - dt.timedelta(seconds=n),
            heart_rate_bpm=80,
            spo2_pct=97,
        )
        for n in range(120)
    )

    latest = newest_values([session.pk])[session.pk]

    assert set(latest) == {"temperature_c", "heart_rate_bpm", "spo2_pct"}
    assert latest["heart_rate_bpm"][1] == now
    assert latest["temperature_c"][1] == now - dt.timedelta(minutes=40)
    page = signed_in(nurse).get("/board/").content.decode()
    assert "Temp <b>37.4</b> °C <span" in page
    assert "(40 min ago)" in page
