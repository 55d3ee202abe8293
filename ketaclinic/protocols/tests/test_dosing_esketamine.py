"""Esketamine: label doses only, whole 28 mg devices, first-session and age rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.protocols.dosing import DosingError, calculate_esketamine_dose


def _dose(dose_mg, *, session_number=3, age_years=50, protocol="esketamine_trd", reason=None):
    return calculate_esketamine_dose(
        protocol,
        dose_mg=dose_mg,
        session_number=session_number,
        age_years=age_years,
        override_reason=reason,
    )


@pytest.mark.parametrize(("dose_mg", "devices"), [(56, 2), (84, 3), ("56", 2), (Decimal(84), 3)])
def test_doses_are_counted_in_28_mg_devices(dose_mg, devices):
    result = _dose(dose_mg)
    assert result.dose_mg == Decimal(dose_mg)
    assert result.devices == devices
    assert result.rate_mg_per_min is None
    assert result.warnings == ()


def test_84_mg_at_age_50_is_three_devices():
    # Issue #3 example.
    result = _dose(84, age_years=50)
    assert (result.dose_mg, result.devices) == (Decimal(84), 3)


@pytest.mark.parametrize("dose_mg", [0, 14, 42, 70, 112, "56.5", -56, "a lot"])
def test_a_dose_that_is_not_28_56_or_84_mg_is_refused_even_with_an_override(dose_mg):
    with pytest.raises(DosingError) as caught:
        _dose(dose_mg, reason="clinical judgement")
    assert caught.value.field == "dose_mg"


def test_trd_starts_at_56_mg_and_84_mg_on_day_one_needs_an_override():
    assert _dose(56, session_number=1).warnings == ()
    with pytest.raises(DosingError) as caught:
        _dose(84, session_number=1)
    assert caught.value.field == "dose_mg"
    assert "56 mg" in caught.value.message
    result = _dose(84, session_number=1, reason="switching from IV, tolerated 84 mg elsewhere")
    assert result.devices == 3
    assert "switching from IV" in result.warnings[0]


def test_84_mg_after_the_first_session_needs_no_override():
    assert _dose(84, session_number=2).warnings == ()


def test_mdsi_starts_at_84_mg_on_day_one():
    result = _dose(84, session_number=1, protocol="esketamine_mdsi")
    assert (result.devices, result.warnings) == (3, ())


@pytest.mark.parametrize(
    ("age_years", "refused"), [(18, True), (64, True), (65, False), (80, False)]
)
def test_28_mg_is_for_patients_65_or_over_unless_overridden(age_years, refused):
    if refused:
        with pytest.raises(DosingError) as caught:
            _dose(28, age_years=age_years)
        assert caught.value.field == "dose_mg"
        assert "65" in caught.value.message
        result = _dose(28, age_years=age_years, reason="frail, low body weight")
        assert "frail, low body weight" in result.warnings[0]
    else:
        assert _dose(28, age_years=age_years).warnings == ()
    assert _dose(28, age_years=age_years, reason="r").devices == 1


def test_an_older_adult_starting_above_28_mg_gets_a_warning_not_a_refusal():
    result = _dose(56, session_number=1, age_years=70)
    assert result.dose_mg == Decimal(56)
    (warning,) = result.warnings
    assert "starts at 28 mg" in warning


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"session_number": 0}, "session_number"),
        ({"session_number": None}, "session_number"),
        ({"session_number": 1.0}, "session_number"),
        ({"age_years": None}, "age_years"),
        ({"age_years": -1}, "age_years"),
        ({"protocol": "iv_racemic"}, "protocol"),
    ],
)
def test_missing_or_impossible_inputs_are_refused(kwargs, field):
    with pytest.raises(DosingError) as caught:
        _dose(56, **kwargs)
    assert caught.value.field == field
