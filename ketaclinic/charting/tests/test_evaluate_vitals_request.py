"""POST /api/v1/safety/evaluate-vitals: readings oldest first in, alerts out."""

from __future__ import annotations

import json

import pytest

from ketaclinic.charting.safety import evaluate_vitals_request
from ketaclinic.charting.vitals import ImplausibleReading


def test_a_high_blood_pressure_comes_back_as_a_bp_high_alert():
    answer = evaluate_vitals_request(
        {"readings": [{"minute": 0, "systolic_mmhg": 185, "diastolic_mmhg": 95}]}
    )

    (alert,) = answer["alerts"]
    assert alert["code"] == "bp_high"
    assert alert["level"] == "warning"
    assert alert["action"].startswith("recheck in 5 min")
    assert "no guideline fixes it" in alert["basis"]
    assert alert["minute"] == 0


def test_the_answer_is_plain_json():
    body = {
        "readings": [
            {"minute": 0, "systolic_mmhg": 185, "diastolic_mmhg": 95, "heart_rate_bpm": 88},
            {"minute": 5.5, "systolic_mmhg": 186, "diastolic_mmhg": 96, "spo2_pct": 97},
        ]
    }

    answer = json.loads(json.dumps(evaluate_vitals_request(body)))

    assert [a["code"] for a in answer["alerts"]] == ["bp_high_sustained"]
    assert answer["alerts"][0]["minute"] == 5.5


def test_the_timeline_keeps_each_alert_at_the_reading_that_raised_it():
    body = {
        "readings": [
            {"minute": 0, "systolic_mmhg": 185, "diastolic_mmhg": 95},
            {"minute": 5, "systolic_mmhg": 185, "diastolic_mmhg": 95},
        ]
    }

    timeline = evaluate_vitals_request(body)["timeline"]

    assert [(a["code"], a["minute"]) for a in timeline] == [
        ("bp_high", 0),
        ("bp_high_sustained", 5),
    ]


def test_no_readings_give_no_alerts():
    assert evaluate_vitals_request({"readings": []}) == {"alerts": [], "timeline": []}


def test_an_implausible_reading_is_rejected_with_its_location():
    body = {"readings": [{"minute": 0, "spo2_pct": 98}, {"minute": 5, "spo2_pct": 140}]}

    with pytest.raises(ImplausibleReading) as caught:
        evaluate_vitals_request(body)

    assert caught.value.location == "readings[1].spo2_pct"
    assert caught.value.message == "Oxygen saturation 140 is outside 50–100 %"


@pytest.mark.parametrize("body", [{}, {"readings": "many"}, [], None])
def test_a_body_without_a_list_of_readings_is_rejected(body):
    with pytest.raises(ImplausibleReading) as caught:
        evaluate_vitals_request(body)

    assert caught.value.field == "readings"
