"""Any JSON at all, sent where the clinic's devices and clinicians send data, answers 2xx or
4xx, never 5xx: a monitor's vitals batch, questionnaire answers, and the dose calculator.

Values are drawn from every JSON type, nested, with the awkward ones a client can really send:
huge and non-finite numbers, NUL characters, lone surrogates, deep lists.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.charting.tests.floor import make_chairs, make_session, monitor_in
from ketaclinic.conftest import signed_in

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

awkward_numbers = st.sampled_from(
    [0, -1, 2**63, -(2**63) - 1, 10**30, 1e308, -1e-300, 0.1, 1e400, float("nan")]
)
awkward_text = st.sampled_from(["", "\x00", "a\x00b", "\ud800", "9999-12-31T25:00", "phq9"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | awkward_numbers
    | awkward_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10) | awkward_text, children, max_size=4)
    ),
    max_leaves=12,
)


def body_text(value) -> str:
    """JSON text; Python writes NaN and Infinity, which a careless client may send too."""
    return json.dumps(value, allow_nan=True)


def fields_with_any_values(names: list[str]):
    return st.dictionaries(st.sampled_from(names), json_values, max_size=len(names))


def deeply_nested(depth: int):
    return st.just("[" * depth + "]" * depth)


def assert_not_a_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert set(response.json()) >= {"message", "errors"}


# ---------------------------------------------------------------- a monitor's vitals batch

READING_FIELDS = [
    "taken_at",
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_pct",
    "resp_rate_per_min",
    "temperature_c",
]
#: Stands for a moment a minute ago, so a reading's values are judged, not its time.
RECENT = "@recent"
timed_readings = st.fixed_dictionaries(
    {"taken_at": st.just(RECENT)},
    optional={name: json_values | awkward_numbers for name in READING_FIELDS[1:]},
)
vitals_bodies = (
    json_values.map(body_text)
    | st.lists(fields_with_any_values(READING_FIELDS), max_size=5).map(
        lambda readings: body_text({"readings": readings})
    )
    | st.lists(timed_readings, min_size=1, max_size=5).map(
        lambda readings: body_text({"readings": readings})
    )
    | timed_readings.map(body_text)
    | deeply_nested(20_000)
)


@pytest.fixture
def monitored_session(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)
    return session, token


@PROPERTY
@given(body=vitals_bodies)
def test_any_json_sent_as_vitals_is_never_a_server_error(monitored_session, body):
    session, token = monitored_session

    a_minute_ago = (timezone.now() - dt.timedelta(minutes=1)).isoformat()

    response = Client().post(
        f"/api/v1/sessions/{session.pk}/vitals",
        body.replace(json.dumps(RECENT), json.dumps(a_minute_ago)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )

    assert_not_a_server_error(response)


# ---------------------------------------------------------------- questionnaire answers

answers_bodies = (
    json_values.map(body_text)
    | json_values.map(lambda answers: body_text({"answers": answers}))
    | st.lists(json_values, max_size=12).map(lambda answers: body_text({"answers": answers}))
    | deeply_nested(20_000)
)
response_bodies = (
    json_values.map(body_text)
    | fields_with_any_values(["instrument", "answers", "channel", "submitted_at"]).map(
        lambda fields: body_text({"instrument": "phq9", "channel": "paper"} | fields)
    )
    | st.lists(json_values, max_size=12).map(
        lambda answers: body_text({"instrument": "phq9", "channel": "paper", "answers": answers})
    )
)


@PROPERTY
@given(body=answers_bodies)
def test_any_json_sent_as_answers_to_score_is_never_a_server_error(nurse, body):
    response = signed_in(nurse).post(
        "/api/v1/instruments/phq9/score", body, content_type="application/json"
    )

    assert_not_a_server_error(response)


@PROPERTY
@given(body=response_bodies)
def test_any_json_entered_as_a_patients_answers_is_never_a_server_error(nurse, patient_a, body):
    response = signed_in(nurse).post(
        f"/api/v1/patients/{patient_a.pk}/outcomes/responses",
        body,
        content_type="application/json",
    )

    assert_not_a_server_error(response)


# ---------------------------------------------------------------- the dose calculator

DOSING_FIELDS = [
    "route",
    "protocol",
    "weight_kg",
    "dose_mg_per_kg",
    "dose_mg",
    "duration_min",
    "session_number",
    "age_years",
    "override_reason",
]
routes = st.sampled_from(["iv", "im", "esketamine", "sublingual", "oral"])
dosing_bodies = (
    json_values.map(body_text)
    | fields_with_any_values(DOSING_FIELDS).map(body_text)
    | st.tuples(routes, fields_with_any_values(DOSING_FIELDS)).map(
        lambda pair: body_text({"route": pair[0]} | pair[1])
    )
    | st.fixed_dictionaries(
        {"route": routes, "weight_kg": awkward_numbers, "dose_mg_per_kg": awkward_numbers},
        optional={"override_reason": st.just("reviewed"), "dose_mg": awkward_numbers},
    ).map(body_text)
)


@PROPERTY
@given(body=dosing_bodies)
def test_any_json_sent_to_the_dose_calculator_is_never_a_server_error(prescriber, body):
    response = signed_in(prescriber).post(
        "/api/v1/dosing/calculate", body, content_type="application/json"
    )

    assert_not_a_server_error(response)
    assert b"NaN" not in response.content
    assert b"Infinity" not in response.content
