"""Readings outside what a body can show are rejected with the field and the rule.

Limits from REFERENCE.md section 3: systolic 50–300, diastolic 20–200 and below systolic,
heart rate 20–250, SpO2 50–100, respiratory rate 4–60, temperature 30–45 °C.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ketaclinic.charting.vitals import (
    DEFAULT_LIMITS,
    ImplausibleReading,
    VitalReading,
    minute_from,
    parse_readings,
    reading_problems,
    validate_reading,
    validate_series,
)

LIMITS = [
    ("systolic_mmhg", 50, 300),
    ("diastolic_mmhg", 20, 200),
    ("heart_rate_bpm", 20, 250),
    ("spo2_pct", 50, 100),
    ("resp_rate_per_min", 4, 60),
    ("temperature_c", 30, 45),
]


def _edges():
    for field, low, high in LIMITS:
        yield pytest.param(field, low - 1, False, id=f"{field}-{low - 1}")
        yield pytest.param(field, low, True, id=f"{field}-{low}")
        yield pytest.param(field, low + 1, True, id=f"{field}-{low + 1}")
        yield pytest.param(field, high - 1, True, id=f"{field}-{high - 1}")
        yield pytest.param(field, high, True, id=f"{field}-{high}")
        yield pytest.param(field, high + 1, False, id=f"{field}-{high + 1}")


@pytest.mark.parametrize(("field", "value", "plausible"), list(_edges()))
def test_each_limit_accepts_its_bounds_and_rejects_one_beyond(field, value, plausible):
    reading = VitalReading(minute=0, **{field: value})

    problems = reading_problems(reading)

    if plausible:
        assert problems == ()
    else:
        assert [p.field for p in problems] == [field]


def test_the_shipped_limits_are_the_reference_values():
    shipped = [(lim.field, int(lim.low), int(lim.high)) for lim in DEFAULT_LIMITS.limits]
    assert shipped == LIMITS
    assert "REFERENCE.md section 3" in DEFAULT_LIMITS.source


def test_the_message_names_the_field_the_value_and_the_rule():
    with pytest.raises(ImplausibleReading) as caught:
        validate_reading(VitalReading(minute=0, spo2_pct=140))

    assert caught.value.field == "spo2_pct"
    assert caught.value.message == "Oxygen saturation 140 is outside 50–100 %"


def test_a_temperature_just_outside_the_range_is_rejected_to_the_decimal():
    with pytest.raises(ImplausibleReading, match=r"Temperature 45.1 is outside 30–45 °C"):
        validate_reading(VitalReading(minute=0, temperature_c=Decimal("45.1")))


def test_a_diastolic_without_a_systolic_is_fine():
    assert validate_reading(VitalReading(minute=0, diastolic_mmhg=90)).diastolic_mmhg == 90


@pytest.mark.parametrize(("systolic", "diastolic"), [(110, 120), (110, 110)])
def test_a_diastolic_at_or_above_the_systolic_is_rejected(systolic, diastolic):
    with pytest.raises(ImplausibleReading) as caught:
        validate_reading(VitalReading(minute=0, systolic_mmhg=systolic, diastolic_mmhg=diastolic))

    assert caught.value.field == "diastolic_mmhg"
    assert caught.value.message == (
        f"Diastolic blood pressure {diastolic} must be below systolic {systolic}"
    )


def test_a_reading_of_400_over_20_names_both_problems():
    problems = reading_problems(VitalReading(minute=0, systolic_mmhg=400, diastolic_mmhg=20))

    assert [p.field for p in problems] == ["systolic_mmhg"]
    assert problems[0].message == "Systolic blood pressure 400 is outside 50–300 mmHg"


def test_a_reading_with_no_vital_sign_is_rejected():
    assert [p.field for p in reading_problems(VitalReading(minute=3))] == ["reading"]


def test_a_reading_before_the_session_start_is_rejected():
    assert [p.field for p in reading_problems(VitalReading(minute=-1, spo2_pct=98))] == ["minute"]


@pytest.mark.parametrize("value", [True, "140", [98], float("nan")])
def test_a_value_that_is_not_a_number_is_refused_on_construction(value):
    with pytest.raises(ImplausibleReading) as caught:
        VitalReading(minute=0, spo2_pct=value)

    assert caught.value.field == "spo2_pct"


def test_a_float_keeps_its_decimal_value():
    assert VitalReading(minute=0, temperature_c=37.2).temperature_c == Decimal("37.2")


def test_readings_out_of_order_are_rejected_at_their_index():
    readings = [VitalReading(minute=10, spo2_pct=98), VitalReading(minute=5, spo2_pct=97)]

    with pytest.raises(ImplausibleReading) as caught:
        validate_series(readings)

    assert (caught.value.field, caught.value.index) == ("minute", 1)
    assert caught.value.location == "readings[1].minute"


def test_readings_at_the_same_minute_are_allowed():
    readings = [VitalReading(minute=5, spo2_pct=98), VitalReading(minute=5, systolic_mmhg=120)]
    assert validate_series(readings) == tuple(readings)


def test_parsing_json_readings_locates_an_implausible_value():
    items = [{"minute": 0, "spo2_pct": 98}, {"minute": 5, "spo2_pct": 140}]

    with pytest.raises(ImplausibleReading) as caught:
        parse_readings(items)

    assert caught.value.location == "readings[1].spo2_pct"


def test_parsing_json_readings_refuses_an_unknown_field():
    with pytest.raises(ImplausibleReading) as caught:
        parse_readings([{"minute": 0, "blood_sugar": 5}])

    assert caught.value.location == "readings[0].blood_sugar"


def test_parsing_json_readings_requires_a_minute():
    with pytest.raises(ImplausibleReading) as caught:
        parse_readings([{"spo2_pct": 98}])

    assert caught.value.location == "readings[0].minute"


def test_parsing_treats_null_as_not_measured():
    (reading,) = parse_readings([{"minute": 0, "spo2_pct": 98, "systolic_mmhg": None}])
    assert reading.systolic_mmhg is None


def test_minutes_from_the_session_start_are_exact():
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    assert minute_from(start + timedelta(minutes=5, seconds=30), start) == Decimal("5.5")


def test_minutes_need_timezone_aware_times():
    naive = datetime(2025, 3, 1, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        minute_from(naive, naive)
