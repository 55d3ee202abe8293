"""Readings a body cannot show are rejected one by one, with their index and the reason;
the rest of the batch is stored (201). When nothing could be stored the answer is 422 and
names each rejected field as ``readings.<index>.<field>``. A malformed body is refused whole."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.ingestion import MAX_BATCH
from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)
from ketaclinic.conftest import signed_in


@pytest.fixture
def floor(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)
    return session, token


def test_an_implausible_reading_is_rejected_with_its_index_and_the_rest_stored(floor):
    session, token = floor
    body = {
        "readings": [
            reading(4),
            reading(3, systolic_mmhg=400, diastolic_mmhg=20),
            reading(2, spo2_pct=140),
            reading(1, heart_rate_bpm=88),
        ]
    }

    response = post_vitals(session.pk, token, body)

    assert response.status_code == 201
    answer = response.json()
    assert answer["stored"] == 2
    assert answer["rejected"] == [
        {
            "index": 1,
            "field": "systolic_mmhg",
            "message": "Systolic blood pressure 400 is outside 50–300 mmHg",
        },
        {"index": 2, "field": "spo2_pct", "message": "Oxygen saturation 140 is outside 50–100 %"},
    ]
    assert answer["errors"] == []
    stored = VitalReading.objects.filter(session=session).order_by("at")
    assert [row.heart_rate_bpm for row in stored] == [76, 88]
    rejected = AuditEvent.objects.get(action="session.vitals_rejected")
    assert rejected.outcome == Outcome.INVALID
    assert [r["index"] for r in rejected.detail["rejected"]] == [1, 2]


def test_nothing_stored_answers_422_naming_each_field(floor):
    session, token = floor
    body = {
        "readings": [
            reading(2, diastolic_mmhg=130, systolic_mmhg=120),
            reading(1, resp_rate_per_min=2),
        ]
    }

    response = post_vitals(session.pk, token, body)

    assert response.status_code == 422
    answer = response.json()
    assert answer["stored"] == 0
    assert answer["errors"] == [
        {
            "field": "readings.0.diastolic_mmhg",
            "message": "Diastolic blood pressure 130 must be below systolic 120",
        },
        {
            "field": "readings.1.resp_rate_per_min",
            "message": "Respiratory rate 2 is outside 4–60 /min",
        },
    ]
    assert "No reading was stored" in answer["message"]
    assert not VitalReading.objects.exists()


def test_one_reading_without_a_batch_is_accepted(floor):
    session, token = floor

    response = post_vitals(session.pk, token, reading(1, temperature_c=36.85))

    assert response.status_code == 201
    assert response.json()["stored"] == 1
    assert VitalReading.objects.get().temperature_c == Decimal("36.9")


def test_the_reading_keeps_the_monitors_time(floor):
    session, token = floor
    taken = (timezone.now() - dt.timedelta(minutes=7)).replace(microsecond=0)
    local = taken.astimezone(dt.timezone(dt.timedelta(hours=-5)))

    post_vitals(session.pk, token, {"taken_at": local.isoformat(), "spo2_pct": 97})

    row = VitalReading.objects.get()
    assert row.at == taken
    assert (row.spo2_pct, row.systolic_mmhg) == (97, None)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"taken_at": None}, "taken_at", "required"),
        ({"taken_at": "yesterday"}, "taken_at", "not an ISO 8601"),
        ({"taken_at": "2030-01-01T10:00:00"}, "taken_at", "needs a UTC offset"),
        ({"blood_sugar": 5}, "blood_sugar", "not a vital sign"),
        ({"heart_rate_bpm": 72.5}, "heart_rate_bpm", "whole number"),
        ({"heart_rate_bpm": "72"}, "heart_rate_bpm", "must be a number"),
        ({"spo2_pct": True}, "spo2_pct", "must be a number"),
        ({"temperature_c": 50}, "temperature_c", "outside 30–45"),
    ],
)
def test_each_problem_names_its_field(floor, change, field, words):
    session, token = floor
    bad = {k: v for k, v in (reading(1) | change).items() if v is not None}

    response = post_vitals(session.pk, token, {"readings": [reading(2), bad]})

    assert response.status_code == 201
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["field"]) == (1, field)
    assert words in rejection["message"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_number_that_is_not_finite_is_rejected(floor, number):
    session, token = floor
    good = json.dumps(reading(2))
    bad = json.dumps(reading(1)).replace('"heart_rate_bpm": 76', f'"heart_rate_bpm": {number}')

    response = Client().post(
        f"/api/v1/sessions/{session.pk}/vitals",
        f'{{"readings": [{good}, {bad}]}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": number},
    )

    assert response.status_code == 201
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["field"]) == (1, "heart_rate_bpm")
    assert "finite" in rejection["message"]


def test_a_reading_with_no_vital_sign_is_rejected(floor):
    session, token = floor

    response = post_vitals(session.pk, token, {"taken_at": timezone.now().isoformat()})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "readings.0.reading"


def test_a_reading_from_before_the_session_or_from_the_future_is_rejected(floor):
    session, token = floor
    before = session.opened_at - dt.timedelta(minutes=1)
    future = timezone.now() + dt.timedelta(minutes=30)

    response = post_vitals(
        session.pk,
        token,
        {"readings": [reading(1) | {"taken_at": t.isoformat()} for t in (before, future)]},
    )

    assert response.status_code == 422
    messages = [error["message"] for error in response.json()["errors"]]
    assert "before the session opened" in messages[0]
    assert "in the future" in messages[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], ""),
        ("not a reading", ""),
        ({"readings": []}, "readings"),
        ({"readings": {"spo2_pct": 98}}, "readings"),
        ({"readings": [], "device": "x"}, "device"),
    ],
)
def test_a_malformed_body_is_refused_whole(floor, body, field):
    session, token = floor

    response = post_vitals(session.pk, token, body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not VitalReading.objects.exists()


def test_a_body_that_is_not_json_is_refused(floor):
    session, token = floor

    response = Client().post(
        f"/api/v1/sessions/{session.pk}/vitals",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "x"},
    )

    assert response.status_code == 422
    assert response.json()["message"] == "The body is not valid JSON."


def test_a_batch_is_bounded(floor):
    session, token = floor
    one = reading(1)

    response = post_vitals(session.pk, token, {"readings": [one] * (MAX_BATCH + 1)})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "readings"


def test_the_endpoint_is_documented(floor, nurse):
    # The schema is for signed-in staff (ketaclinic/web/docs.py).
    schema = signed_in(nurse).get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/sessions/{session_id}/vitals"]["post"]

    assert "Idempotency-Key" in json.dumps(operation["parameters"])
    assert "taken_at" in json.dumps(operation["requestBody"])
