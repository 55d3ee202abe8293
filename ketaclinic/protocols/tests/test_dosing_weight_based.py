"""IV and IM doses from weight x mg/kg, rounded to 0.1 mg; IV rates rounded to 0.01 mg/min."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ketaclinic.protocols.dosing import DosingError, calculate_weight_based_dose

D = Decimal


@pytest.mark.parametrize(
    ("weight_kg", "mg_per_kg", "minutes", "dose_mg", "rate"),
    [
        # Issue #3 example.
        ("73.4", "0.5", 40, D("36.7"), D("0.92")),
        # REFERENCE.md section 1 default: 0.5 mg/kg over 40 min.
        ("70", "0.5", 40, D("35.0"), D("0.88")),
        ("80", "0.5", None, D("40.0"), D("1.00")),
        ("100", "1.0", 60, D("100.0"), D("1.67")),
        ("30", "0.1", 40, D("3.0"), D("0.08")),
        ("250", "1.0", 60, D("250.0"), D("4.17")),
        # Half-way cases round up, not to even: 36.65 mg -> 36.7 mg; 36.2 / 40 = 0.905 -> 0.91.
        ("73.3", "0.5", 40, D("36.7"), D("0.92")),
        ("72.4", "0.5", 40, D("36.2"), D("0.91")),
        # The rate is worked out from the rounded dose actually drawn up: 30.7 / 40.
        ("61.3", "0.5", 40, D("30.7"), D("0.77")),
    ],
)
def test_the_iv_dose_and_rate_match_worked_examples(weight_kg, mg_per_kg, minutes, dose_mg, rate):
    result = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg, infusion_minutes=minutes
    )
    assert result.dose_mg == dose_mg
    assert result.rate_mg_per_min == rate
    assert result.warnings == ()
    assert result.devices is None


def test_the_infusion_defaults_to_the_protocols_40_minutes():
    result = calculate_weight_based_dose("iv_racemic", weight_kg=70, dose_mg_per_kg="0.5")
    assert result.infusion_minutes == 40


def test_the_dose_keeps_one_decimal_even_when_whole():
    result = calculate_weight_based_dose("iv_racemic", weight_kg=70, dose_mg_per_kg="0.5")
    assert str(result.dose_mg) == "35.0"
    assert result.as_dict()["dose_mg"] == "35.0"


def test_rounding_is_half_up_not_to_even():
    # 36.65 mg exactly: banker's rounding would give 36.6.
    result = calculate_weight_based_dose("im_racemic", weight_kg="73.3", dose_mg_per_kg="0.5")
    assert result.dose_mg == D("36.7")


def test_im_has_no_rate_and_refuses_an_infusion_time():
    result = calculate_weight_based_dose("im_racemic", weight_kg=80, dose_mg_per_kg="0.25")
    assert (result.dose_mg, result.rate_mg_per_min, result.infusion_minutes) == (
        D("20.0"),
        None,
        None,
    )
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "im_racemic", weight_kg=80, dose_mg_per_kg="0.25", infusion_minutes=40
        )
    assert caught.value.field == "infusion_minutes"


@pytest.mark.parametrize("weight_kg", ["30", "250", "30.0", 100])
def test_weights_at_the_limits_are_accepted(weight_kg):
    calculate_weight_based_dose("iv_racemic", weight_kg=weight_kg, dose_mg_per_kg="0.5")


@pytest.mark.parametrize("weight_kg", ["29.9", "250.1", 0, -70, "heavy", None, True, float("inf")])
def test_a_weight_outside_30_to_250_kg_is_refused_even_with_an_override(weight_kg):
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg="0.5", override_reason="sure"
        )
    assert caught.value.field == "weight_kg"


@pytest.mark.parametrize("mg_per_kg", ["0.1", "0.75", "1.0"])
def test_doses_inside_the_allowed_range_need_no_override(mg_per_kg):
    assert (
        calculate_weight_based_dose("iv_racemic", weight_kg=70, dose_mg_per_kg=mg_per_kg).warnings
        == ()
    )


@pytest.mark.parametrize("mg_per_kg", ["0.09", "1.01", "2"])
def test_a_dose_per_kg_outside_the_allowed_range_is_refused_without_a_reason(mg_per_kg):
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose("iv_racemic", weight_kg=70, dose_mg_per_kg=mg_per_kg)
    assert caught.value.field == "dose_mg_per_kg"
    assert "0.1-1.0 mg/kg" in caught.value.message


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_a_blank_override_reason_authorises_nothing(reason):
    with pytest.raises(DosingError):
        calculate_weight_based_dose(
            "iv_racemic", weight_kg=70, dose_mg_per_kg="1.2", override_reason=reason
        )


def test_an_override_returns_the_dose_with_a_warning_naming_the_range_and_reason():
    result = calculate_weight_based_dose(
        "iv_racemic",
        weight_kg=70,
        dose_mg_per_kg="1.2",
        override_reason="Partial response at 1.0 mg/kg; Dr Lee",
    )
    assert result.dose_mg == D("84.0")
    (warning,) = result.warnings
    assert "0.1-1.0 mg/kg" in warning
    assert "Partial response at 1.0 mg/kg; Dr Lee" in warning


@pytest.mark.parametrize("minutes", [40, 50, 60])
def test_iv_durations_from_40_to_60_minutes_are_accepted(minutes):
    result = calculate_weight_based_dose(
        "iv_racemic", weight_kg=70, dose_mg_per_kg="0.5", infusion_minutes=minutes
    )
    assert result.infusion_minutes == minutes
    assert result.warnings == ()


@pytest.mark.parametrize("minutes", [39, 61, 100])
def test_an_iv_duration_outside_40_to_60_minutes_needs_an_override(minutes):
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "iv_racemic", weight_kg=70, dose_mg_per_kg="0.5", infusion_minutes=minutes
        )
    assert caught.value.field == "infusion_minutes"
    result = calculate_weight_based_dose(
        "iv_racemic",
        weight_kg=70,
        dose_mg_per_kg="0.5",
        infusion_minutes=minutes,
        override_reason="nausea at 40 min last time",
    )
    assert result.infusion_minutes == minutes
    assert "40-60 min" in result.warnings[0]
    assert "nausea at 40 min last time" in result.warnings[0]


@pytest.mark.parametrize("minutes", [0, -40, 40.5, "40", True])
def test_an_impossible_infusion_time_is_refused_even_with_an_override(minutes):
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "iv_racemic",
            weight_kg=70,
            dose_mg_per_kg="0.5",
            infusion_minutes=minutes,
            override_reason="x",
        )
    assert caught.value.field == "infusion_minutes"


@pytest.mark.parametrize(
    ("measured_on", "accepted"),
    [
        (date(2026, 3, 1), True),
        (date(2026, 1, 30), True),  # 30 days old
        (date(2026, 1, 29), False),  # 31 days old
    ],
)
def test_a_weight_older_than_30_days_is_refused(measured_on, accepted):
    def calculate():
        return calculate_weight_based_dose(
            "iv_racemic",
            weight_kg=70,
            dose_mg_per_kg="0.5",
            weight_measured_on=measured_on,
            today=date(2026, 3, 1),
            override_reason="no scale",
        )

    if accepted:
        calculate()
    else:
        with pytest.raises(DosingError) as caught:
            calculate()
        assert caught.value.field == "weight_measured_on"
        assert "31 days old" in caught.value.message


def test_a_weight_measured_in_the_future_is_refused():
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "iv_racemic",
            weight_kg=70,
            dose_mg_per_kg="0.5",
            weight_measured_on=date(2026, 3, 2),
            today=date(2026, 3, 1),
        )
    assert caught.value.field == "weight_measured_on"


def test_a_measurement_date_without_today_cannot_be_checked_and_is_refused():
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose(
            "iv_racemic", weight_kg=70, dose_mg_per_kg="0.5", weight_measured_on=date(2026, 3, 1)
        )
    assert caught.value.field == "today"


def test_esketamine_is_not_dosed_per_kilo():
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose("esketamine_trd", weight_kg=70, dose_mg_per_kg="0.8")
    assert caught.value.field == "protocol"


def test_an_unknown_protocol_is_refused_with_the_field():
    with pytest.raises(DosingError) as caught:
        calculate_weight_based_dose("iv", weight_kg=70, dose_mg_per_kg="0.5")
    assert caught.value.field == "protocol"
    assert "iv_racemic" in caught.value.message


def test_floats_are_read_through_their_text_form():
    result = calculate_weight_based_dose("iv_racemic", weight_kg=73.4, dose_mg_per_kg=0.5)
    assert result.dose_mg == D("36.7")
    assert result.dose_mg_per_kg == D("0.5")
