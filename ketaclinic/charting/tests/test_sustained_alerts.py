"""Sustained means the rule holds on every reading over at least 5 minutes.

bp_high_sustained: bp_high on two readings at least 5 min apart with no lower reading
between; tachycardia_sustained: heart rate > 120 on every reading over >= 5 min
(REFERENCE.md section 3; the definition is documented in data/vital_sign_policy.yaml).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.charting.safety import evaluate
from ketaclinic.charting.vitals import VitalReading


def bp(minute, systolic, diastolic=90):
    return VitalReading(minute=minute, systolic_mmhg=systolic, diastolic_mmhg=diastolic)


def hr(minute, rate):
    return VitalReading(minute=minute, heart_rate_bpm=rate)


def codes(readings):
    return {alert.code for alert in evaluate(readings)}


def test_two_high_readings_4_minutes_apart_are_not_sustained():
    assert codes([bp(0, 185), bp(4, 185)]) == {"bp_high"}


def test_two_high_readings_5_minutes_apart_are_sustained():
    assert codes([bp(0, 185), bp(5, 185)]) == {"bp_high_sustained"}


def test_high_readings_4_9_minutes_apart_are_not_sustained():
    assert codes([bp(0, 185), bp(Decimal("4.9"), 185)]) == {"bp_high"}


def test_a_lower_reading_between_breaks_the_run():
    assert codes([bp(0, 185), bp(3, 150), bp(5, 185)]) == {"bp_high"}


def test_a_reading_without_blood_pressure_does_not_break_the_run():
    between = VitalReading(minute=3, spo2_pct=97)

    assert codes([bp(0, 185), between, bp(5, 185)]) == {"bp_high_sustained"}


def test_sustained_needs_the_newest_reading_to_be_high():
    assert codes([bp(0, 185), bp(5, 185), bp(8, 150)]) == set()


def test_a_high_diastolic_alone_can_be_sustained():
    assert codes([bp(0, 150, 112), bp(5, 150, 115)]) == {"bp_high_sustained"}


def test_a_critical_reading_after_a_high_one_is_critical_and_sustained():
    assert codes([bp(0, 185), bp(5, 205)]) == {"bp_critical", "bp_high_sustained"}


def test_a_sustained_alert_is_timed_at_the_newest_reading_and_says_over_what_span():
    (alert,) = evaluate([bp(0, 185), bp(10, 185)])

    assert (alert.code, alert.level, alert.minute) == ("bp_high_sustained", "critical", 10)
    assert alert.message == (
        "Blood pressure high, sustained: 185/90 mmHg, beyond the limit on every reading for "
        "10 min (limit 180/110)"
    )


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ([hr(0, 125), hr(4, 125)], {"tachycardia"}),
        ([hr(0, 125), hr(5, 125)], {"tachycardia_sustained"}),
        ([hr(0, 125), hr(2, 130), hr(5, 125)], {"tachycardia_sustained"}),
        ([hr(0, 125), hr(3, 110), hr(5, 130)], {"tachycardia"}),
        ([hr(0, 110), hr(3, 125), hr(8, 125)], {"tachycardia_sustained"}),
        ([hr(0, 110), hr(3, 125), hr(7, 125)], {"tachycardia"}),
        ([hr(0, 125), hr(5, 120)], set()),
    ],
    ids=[
        "4 min apart",
        "5 min apart",
        "every reading over 5 min",
        "a normal reading between",
        "run starts after a normal reading, 5 min long",
        "run starts after a normal reading, 4 min long",
        "newest reading normal",
    ],
)
def test_tachycardia_is_sustained_when_every_reading_over_5_minutes_is_above_120(
    readings, expected
):
    assert codes(readings) == expected
