"""Replaying a session gives each alert at the reading that raised it."""

from __future__ import annotations

from ketaclinic.charting.safety import evaluate_series
from ketaclinic.charting.vitals import VitalReading


def test_a_rising_blood_pressure_is_recorded_as_it_escalated():
    readings = [
        VitalReading(minute=0, systolic_mmhg=130, diastolic_mmhg=80),
        VitalReading(minute=10, systolic_mmhg=182, diastolic_mmhg=95),
        VitalReading(minute=12, spo2_pct=97),
        VitalReading(minute=15, systolic_mmhg=188, diastolic_mmhg=100),
        VitalReading(minute=20, systolic_mmhg=202, diastolic_mmhg=105),
        VitalReading(minute=30, systolic_mmhg=150, diastolic_mmhg=90),
    ]

    timeline = [(a.minute, a.code) for a in evaluate_series(readings)]

    assert timeline == [
        (10, "bp_high"),
        (15, "bp_high_sustained"),
        (20, "bp_high_sustained"),
        (20, "bp_critical"),
    ]


def test_an_alert_carried_by_a_later_reading_is_not_repeated():
    readings = [
        VitalReading(minute=0, systolic_mmhg=185, diastolic_mmhg=95),
        VitalReading(minute=1, spo2_pct=98),
        VitalReading(minute=2, spo2_pct=97),
    ]

    assert [(a.minute, a.code) for a in evaluate_series(readings)] == [(0, "bp_high")]
