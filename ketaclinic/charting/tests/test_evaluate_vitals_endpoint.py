"""``POST /api/v1/safety/evaluate-vitals``: readings in, the clinic policy's alerts out, with
their basis; 422 naming the field of an implausible value; clinicians only; audited.

Thresholds are those of the default policy in REFERENCE.md section 3, checked at, just below
and just above each boundary through the endpoint."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.vitals_service import clinic_policy
from ketaclinic.conftest import signed_in

URL = "/api/v1/safety/evaluate-vitals"


def evaluate(client: Client, readings: list[dict]):
    return client.post(URL, json.dumps({"readings": readings}), content_type="application/json")


def codes(response) -> list[str]:
    return [alert["code"] for alert in response.json()["alerts"]]


@pytest.fixture
def client(nurse):
    return signed_in(nurse)


def test_the_answer_has_the_documented_shape(client):
    response = evaluate(
        client,
        [
            {
                "minute": 0,
                "systolic_mmhg": 185,
                "diastolic_mmhg": 100,
                "heart_rate_bpm": 88,
                "spo2_pct": 97,
                "resp_rate_per_min": 14,
            }
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"alerts", "timeline", "policy"}
    rule = clinic_policy().rule("bp_high")
    assert body["alerts"] == [
        {
            "code": "bp_high",
            "label": "Blood pressure high",
            "level": "warning",
            "action": rule.action,
            "basis": rule.basis,
            "minute": 0,
            "finding": "185/100 mmHg (limit 180/110)",
            "message": "Blood pressure high: 185/100 mmHg (limit 180/110)",
        }
    ]
    assert body["timeline"] == body["alerts"]
    assert body["policy"]["name"] == clinic_policy().name
    assert "no guideline fixes" in body["policy"]["status"]
    assert "editable" in body["policy"]["status"]


@pytest.mark.parametrize(
    ("field", "below", "at", "above", "code"),
    [
        # (field, value that raises nothing, boundary, beyond, code), REFERENCE.md section 3.
        ("systolic_mmhg", 179, 180, 181, "bp_high"),
        ("diastolic_mmhg", 109, 110, 111, "bp_high"),
        ("systolic_mmhg", None, 200, 201, "bp_critical"),
        ("heart_rate_bpm", 119, 120, 121, "tachycardia"),
        ("heart_rate_bpm", 51, 50, 49, "bradycardia"),
        ("spo2_pct", 93, 92, 91, "hypoxemia"),
        ("resp_rate_per_min", 9, 8, 7, "respiratory_depression"),
    ],
)
def test_each_threshold_through_the_endpoint(client, field, below, at, above, code):
    def alerts_for(value):
        values = {field: value}
        if field == "diastolic_mmhg":
            values["systolic_mmhg"] = 150
        return codes(evaluate(client, [{"minute": 0, **values}]))

    inclusive = code in {"bp_high", "bp_critical"}  # >= in the table; the others are > or <
    if below is not None:
        assert code not in alerts_for(below)
    assert (code in alerts_for(at)) is inclusive
    assert code in alerts_for(above)


def test_bp_critical_replaces_bp_high(client):
    assert codes(evaluate(client, [{"minute": 0, "systolic_mmhg": 200}])) == ["bp_critical"]
    assert codes(evaluate(client, [{"minute": 0, "systolic_mmhg": 199}])) == ["bp_high"]


@pytest.mark.parametrize(("gap", "sustained"), [(4.9, False), (5, True), (6, True)])
def test_high_bp_is_sustained_from_five_minutes_apart(client, gap, sustained):
    readings = [
        {"minute": 10, "systolic_mmhg": 184, "diastolic_mmhg": 96},
        {"minute": 10 + gap, "systolic_mmhg": 182, "diastolic_mmhg": 95},
    ]

    response = evaluate(client, readings)

    expected = ["bp_high_sustained"] if sustained else ["bp_high"]
    assert codes(response) == expected
    assert response.json()["alerts"][0]["level"] == ("critical" if sustained else "warning")


def test_a_lower_reading_between_breaks_the_run(client):
    readings = [
        {"minute": 0, "systolic_mmhg": 184},
        {"minute": 3, "systolic_mmhg": 150},
        {"minute": 6, "systolic_mmhg": 183},
    ]

    assert codes(evaluate(client, readings)) == ["bp_high"]


def test_tachycardia_for_five_minutes_is_critical(client):
    readings = [{"minute": m, "heart_rate_bpm": 126} for m in (0, 2.5, 5)]

    response = evaluate(client, readings)

    assert codes(response) == ["tachycardia_sustained"]
    assert [a["code"] for a in response.json()["timeline"]] == [
        "tachycardia",
        "tachycardia",
        "tachycardia_sustained",
    ]


def test_critical_alerts_come_first(client):
    readings = [{"minute": 0, "systolic_mmhg": 185, "spo2_pct": 86}]

    response = evaluate(client, readings)

    assert codes(response) == ["severe_hypoxemia", "bp_high"]


@pytest.mark.parametrize(
    ("readings", "field"),
    [
        ([{"minute": 0, "spo2_pct": 140}], "readings.0.spo2_pct"),
        (
            [{"minute": 0, "spo2_pct": 97}, {"minute": 5, "systolic_mmhg": 400}],
            "readings.1.systolic_mmhg",
        ),
        ([{"minute": 0}], "readings.0.reading"),
        ([{"minute": 0, "systolic_mmhg": 120, "diastolic_mmhg": 130}], "readings.0.diastolic_mmhg"),
        ([{"minute": 0, "heart_rate_bpm": "fast"}], "readings.0.heart_rate_bpm"),
        ([{"systolic_mmhg": 120}], "readings.0.minute"),
        ([{"minute": 5, "spo2_pct": 97}, {"minute": 2, "spo2_pct": 97}], "readings.1.minute"),
        ([{"minute": 0, "glucose": 5}], "readings.0.glucose"),
        ("not a list", "readings"),
    ],
)
def test_an_implausible_value_answers_422_naming_the_field(client, readings, field):
    response = client.post(URL, json.dumps({"readings": readings}), content_type="application/json")

    assert response.status_code == 422
    body = response.json()
    assert [error["field"] for error in body["errors"]] == [field]
    assert field in body["message"]
    event = AuditEvent.objects.filter(action="safety.evaluate_vitals").get()
    assert event.outcome == Outcome.INVALID


@pytest.mark.parametrize(("body", "field"), [({}, "readings"), ({"readings": [], "x": 1}, "x")])
def test_a_body_without_readings_or_with_unknown_fields_is_refused(client, body, field):
    response = client.post(URL, json.dumps(body), content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_the_series_is_bounded(client):
    readings = [{"minute": m, "spo2_pct": 97} for m in range(601)]

    response = evaluate(client, readings)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "readings", "message": "send at most 600 readings, not 601"}
    ]


def test_a_successful_evaluation_is_audited(client, nurse):
    evaluate(client, [{"minute": 0, "spo2_pct": 90}])

    event = AuditEvent.objects.get(action="safety.evaluate_vitals")
    assert (event.actor_id, event.outcome) == (nurse.pk, Outcome.SUCCESS)
    assert event.detail["alerts"] == ["hypoxemia"]
    assert event.patient_id is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("nurse", 200),
        ("therapist", 200),
        ("front_desk", 403),
        ("clinic_admin", 403),
        ("patient_a", 403),
        ("outsider", 403),
    ],
)
def test_clinicians_may_evaluate(cast, who, status):
    response = evaluate(signed_in(cast[who]), [{"minute": 0, "spo2_pct": 97}])

    assert response.status_code == status


def test_a_bearer_token_works_and_anonymous_callers_are_refused(prescriber):
    _, raw = ApiToken.issue(prescriber, "script")
    body = json.dumps({"readings": [{"minute": 0, "spo2_pct": 97}]})

    with_token = Client().post(
        URL, body, content_type="application/json", headers={"Authorization": f"Bearer {raw}"}
    )
    anonymous = Client().post(URL, body, content_type="application/json")

    assert with_token.status_code == 200
    assert anonymous.status_code == 401
