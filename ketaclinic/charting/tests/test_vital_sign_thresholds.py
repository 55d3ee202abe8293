"""Each default policy code fires at its threshold and not just short of it.

Table from REFERENCE.md section 3 (default clinic policy [U]): bp_high >= 180/110,
bp_critical >= 200/120, tachycardia > 120, bradycardia < 50, hypoxemia < 92,
severe_hypoxemia < 88, respiratory_depression < 8.
"""

from __future__ import annotations

import pytest

from ketaclinic.charting.safety import DEFAULT_POLICY, evaluate
from ketaclinic.charting.vitals import VitalReading

NORMAL = {
    "systolic_mmhg": 120,
    "diastolic_mmhg": 80,
    "heart_rate_bpm": 80,
    "spo2_pct": 98,
    "resp_rate_per_min": 14,
}

# (what changes from NORMAL, codes expected), at, just below and just above each threshold.
TABLE = [
    ({"systolic_mmhg": 179}, set()),
    ({"systolic_mmhg": 180}, {"bp_high"}),
    ({"systolic_mmhg": 181}, {"bp_high"}),
    ({"systolic_mmhg": 150, "diastolic_mmhg": 109}, set()),
    ({"systolic_mmhg": 150, "diastolic_mmhg": 110}, {"bp_high"}),
    ({"systolic_mmhg": 150, "diastolic_mmhg": 111}, {"bp_high"}),
    ({"systolic_mmhg": 199}, {"bp_high"}),
    ({"systolic_mmhg": 200}, {"bp_critical"}),
    ({"systolic_mmhg": 201}, {"bp_critical"}),
    ({"systolic_mmhg": 160, "diastolic_mmhg": 119}, {"bp_high"}),
    ({"systolic_mmhg": 160, "diastolic_mmhg": 120}, {"bp_critical"}),
    ({"systolic_mmhg": 160, "diastolic_mmhg": 121}, {"bp_critical"}),
    ({"heart_rate_bpm": 119}, set()),
    ({"heart_rate_bpm": 120}, set()),
    ({"heart_rate_bpm": 121}, {"tachycardia"}),
    ({"heart_rate_bpm": 49}, {"bradycardia"}),
    ({"heart_rate_bpm": 50}, set()),
    ({"heart_rate_bpm": 51}, set()),
    ({"spo2_pct": 91}, {"hypoxemia"}),
    ({"spo2_pct": 92}, set()),
    ({"spo2_pct": 93}, set()),
    ({"spo2_pct": 87}, {"severe_hypoxemia"}),
    ({"spo2_pct": 88}, {"hypoxemia"}),
    ({"spo2_pct": 89}, {"hypoxemia"}),
    ({"resp_rate_per_min": 7}, {"respiratory_depression"}),
    ({"resp_rate_per_min": 8}, set()),
    ({"resp_rate_per_min": 9}, set()),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    TABLE,
    ids=[" ".join(f"{k}={v}" for k, v in change.items()) for change, _ in TABLE],
)
def test_each_code_fires_at_its_threshold_and_not_short_of_it(change, expected):
    alerts = evaluate([VitalReading(minute=0, **(NORMAL | change))])

    assert {alert.code for alert in alerts} == expected


def test_a_normal_reading_raises_nothing():
    assert evaluate([VitalReading(minute=0, **NORMAL)]) == []


def test_no_readings_raise_nothing():
    assert evaluate([]) == []


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("bp_high", "warning"),
        ("bp_high_sustained", "critical"),
        ("bp_critical", "critical"),
        ("tachycardia", "warning"),
        ("tachycardia_sustained", "critical"),
        ("bradycardia", "warning"),
        ("hypoxemia", "warning"),
        ("severe_hypoxemia", "critical"),
        ("respiratory_depression", "critical"),
    ],
)
def test_each_code_has_the_level_of_the_reference_table(code, level):
    assert DEFAULT_POLICY.rule(code).level == level


def test_an_alert_carries_the_action_the_basis_and_the_finding():
    (alert,) = evaluate([VitalReading(minute=12, **(NORMAL | {"systolic_mmhg": 185}))])

    assert alert.code == "bp_high"
    assert alert.minute == 12
    assert alert.action == "recheck in 5 min; consider slowing or pausing the infusion"
    assert "no guideline fixes it" in alert.basis
    assert "editable" in alert.basis
    assert alert.finding == "185/80 mmHg (limit 180/110)"
    assert alert.label == "Blood pressure high"
    assert alert.message == "Blood pressure high: 185/80 mmHg (limit 180/110)"


def test_critical_alerts_come_before_warnings():
    reading = VitalReading(minute=0, **(NORMAL | {"heart_rate_bpm": 130, "spo2_pct": 85}))

    assert [a.level for a in evaluate([reading])] == ["critical", "warning"]


def test_a_blood_pressure_alert_holds_until_a_new_blood_pressure_is_taken():
    readings = [
        VitalReading(minute=0, systolic_mmhg=185, diastolic_mmhg=95, spo2_pct=98),
        VitalReading(minute=2, spo2_pct=97),
    ]

    (alert,) = evaluate(readings)

    assert (alert.code, alert.minute) == ("bp_high", 0)


def test_a_lower_blood_pressure_clears_the_alert():
    readings = [
        VitalReading(minute=0, systolic_mmhg=185, diastolic_mmhg=95),
        VitalReading(minute=3, systolic_mmhg=150, diastolic_mmhg=90),
    ]

    assert evaluate(readings) == []
