"""Alerts speak the clinic's words: a label, the values with their units, the limits, and
advice that fits the phase of the session (no "pause the infusion" once dosing has ended).
Codes stay in the API's JSON."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ketaclinic.charting.alert_rules import (
    DEFAULT_POLICY,
    PHASES,
    PolicyError,
    VitalSignPolicy,
    label_of,
    phase_at,
)
from ketaclinic.charting.alerts import evaluate, evaluate_vitals_request
from ketaclinic.charting.vitals import VitalReading

INTERNAL = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|>=|<=|minute \d")


def reading(**values):
    return VitalReading(minute=0, **values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"systolic_mmhg": 186, "diastolic_mmhg": 112},
            "Blood pressure high: 186/112 mmHg (limit 180/110)",
        ),
        (
            {"systolic_mmhg": 204, "diastolic_mmhg": 100},
            "Blood pressure very high: 204/100 mmHg (limit 200/120)",
        ),
        ({"systolic_mmhg": 185}, "Blood pressure high: 185/– mmHg (limit 180/110)"),
        ({"heart_rate_bpm": 134}, "Heart rate high: 134 bpm (limit 120)"),
        ({"heart_rate_bpm": 44}, "Heart rate low: 44 bpm (limit 50)"),
        ({"spo2_pct": 90}, "Oxygen saturation low: 90% (limit 92)"),
        ({"spo2_pct": 85}, "Oxygen saturation very low: 85% (limit 88)"),
        ({"resp_rate_per_min": 6}, "Respiratory rate low: 6/min (limit 8)"),
    ],
)
def test_each_alert_reads_as_its_label_values_units_and_limits(values, message):
    (alert,) = evaluate([reading(**values)])

    assert alert.message == message
    assert not INTERNAL.search(alert.message), alert.message


def test_every_rule_has_a_label_in_words_and_advice_for_every_phase():
    for rule in DEFAULT_POLICY.rules:
        assert rule.label, rule.code
        assert not INTERNAL.search(rule.label), rule.code
        assert len(rule.actions) == len(PHASES), rule.code
        assert "REFERENCE.md" not in rule.basis, rule.code


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"systolic_mmhg": 204, "diastolic_mmhg": 100}, "bp_critical"),
        ({"spo2_pct": 85}, "severe_hypoxemia"),
        ({"resp_rate_per_min": 6}, "respiratory_depression"),
    ],
)
def test_a_critical_alert_in_observation_does_not_advise_the_infusion(values, code):
    (during,) = evaluate([reading(**values)], phase="dosing")
    (after,) = evaluate([reading(**values)], phase="observation")
    (before,) = evaluate([reading(**values)], phase="before_dosing")

    assert during.code == after.code == before.code == code
    assert "infusion" in during.action
    assert "infusion" not in after.action
    assert "infusion" not in before.action


def test_a_sustained_high_blood_pressure_in_observation_does_not_say_pause():
    readings = [
        VitalReading(minute=0, systolic_mmhg=185, diastolic_mmhg=90),
        VitalReading(minute=5, systolic_mmhg=186, diastolic_mmhg=90),
    ]

    (alert,) = evaluate(readings, phase="observation")

    assert alert.code == "bp_high_sustained"
    assert "pause" not in alert.action
    assert "notify the prescriber" in alert.action


def test_an_unknown_phase_is_refused():
    with pytest.raises(PolicyError, match="phase"):
        evaluate([reading(spo2_pct=85)], phase="recovery")


@pytest.mark.parametrize(
    ("minute", "start", "end", "phase"),
    [
        (5, None, None, "before_dosing"),
        (5, 10, None, "before_dosing"),
        (10, 10, None, "dosing"),
        (49, 10, 50, "dosing"),
        (50, 10, 50, "observation"),
        (90, 10, 50, "observation"),
    ],
)
def test_the_phase_follows_the_dose_start_and_end(minute, start, end, phase):
    as_minute = [None if m is None else Decimal(m) for m in (minute, start, end)]

    assert phase_at(*as_minute) == phase


def test_the_policy_accepts_one_text_or_a_text_per_phase_and_nothing_else():
    mapping = DEFAULT_POLICY.to_mapping()
    mapping["rules"][0]["action"] = {"dosing": "slow down"}

    with pytest.raises(PolicyError, match="before_dosing"):
        VitalSignPolicy.from_mapping(mapping)


def test_the_api_keeps_the_code_and_adds_the_words():
    body = {"readings": [{"minute": 0, "systolic_mmhg": 186, "diastolic_mmhg": 112}]}

    (alert,) = evaluate_vitals_request(body)["alerts"]

    assert alert["code"] == "bp_high"
    assert alert["label"] == "Blood pressure high"
    assert alert["message"] == "Blood pressure high: 186/112 mmHg (limit 180/110)"


def test_a_code_the_policy_no_longer_has_still_reads_as_words():
    assert label_of("bp_high") == "Blood pressure high"
    assert label_of("old_rule_code") == "Old rule code"
