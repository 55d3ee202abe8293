"""POST /api/v1/outcomes/change: change %, response and remission (null where undefined)."""

from __future__ import annotations

import json

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in

URL = "/api/v1/outcomes/change"


def post(client, body) -> tuple[int, dict]:
    response = client.post(URL, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def client(prescriber):
    return signed_in(prescriber)


def test_the_documented_example(client):
    status, body = post(client, {"instrument": "phq9", "baseline": 20, "current": 8})

    assert status == 200
    assert body == {"change_pct": -60.0, "response": True, "remission": False}


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "expected"),
    [
        ("phq9", 20, 10, {"change_pct": -50.0, "response": True, "remission": False}),
        ("phq9", 20, 11, {"change_pct": -45.0, "response": False, "remission": False}),
        ("phq9", 20, 4, {"change_pct": -80.0, "response": True, "remission": True}),
        ("gad7", 16, 4, {"change_pct": -75.0, "response": True, "remission": True}),
        ("qids_sr16", 18, 5, {"change_pct": -72.2, "response": True, "remission": True}),
        ("madrs", 30, 11, {"change_pct": -63.3, "response": True, "remission": False}),
        ("pcl5", 50, 40, {"change_pct": -20.0, "response": True, "remission": None}),
        ("pcl5", 50, 41, {"change_pct": -18.0, "response": False, "remission": None}),
        ("phq9", 0, 0, {"change_pct": None, "response": False, "remission": True}),
    ],
)
def test_response_and_remission_follow_each_instrument_rule(
    client, instrument, baseline, current, expected
):
    status, body = post(
        client, {"instrument": instrument, "baseline": baseline, "current": current}
    )

    assert status == 200
    assert body == expected


def test_the_pain_scale_defines_no_response(client):
    status, body = post(client, {"instrument": "pain_nrs", "baseline": 8, "current": 2})

    assert status == 200
    assert body == {"change_pct": -75.0, "response": None, "remission": None}


def test_a_total_outside_the_range_is_422_naming_the_field(client):
    status, body = post(client, {"instrument": "phq9", "baseline": 30, "current": 8})

    assert status == 422
    assert body["errors"] == [
        {
            "field": "baseline",
            "message": "baseline 30 is outside Patient Health Questionnaire-9 (PHQ-9)'s range 0–27",
        }
    ]


def test_a_non_integer_total_is_422(client):
    status, body = post(client, {"instrument": "phq9", "baseline": 20, "current": "8"})

    assert status == 422
    assert body["errors"][0]["field"] == "current"


def test_an_unknown_instrument_is_404(client):
    status, _ = post(client, {"instrument": "ybocs", "baseline": 20, "current": 8})

    assert status == 404


def test_it_is_audited(client, prescriber):
    post(client, {"instrument": "phq9", "baseline": 20, "current": 8})

    event = AuditEvent.objects.get(action="outcome.change")
    assert event.actor == prescriber
    assert event.detail == {"instrument": "phq9", "baseline": 20, "current": 8}
