"""Sublingual and oral: per kg or a fixed mg dose, each inside its range unless overridden."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.protocols.dosing import DosingError, calculate_dose, calculate_fixed_dose


@pytest.mark.parametrize("protocol", ["sublingual_racemic", "oral_racemic"])
def test_a_per_kilo_dose_is_weight_times_mg_per_kg(protocol):
    result = calculate_dose(protocol, weight_kg="70", dose_mg_per_kg="2.5")
    assert result.dose_mg == Decimal("175.0")
    assert result.rate_mg_per_min is None


@pytest.mark.parametrize("mg_per_kg", ["0.24", "7.01"])
def test_a_per_kilo_dose_outside_a_quarter_to_seven_mg_per_kg_needs_an_override(mg_per_kg):
    with pytest.raises(DosingError) as caught:
        calculate_dose("sublingual_racemic", weight_kg=70, dose_mg_per_kg=mg_per_kg)
    assert "0.25-7 mg/kg" in caught.value.message


@pytest.mark.parametrize("dose_mg", [25, 150, 300, "100.5"])
def test_a_fixed_dose_between_25_and_300_mg_is_accepted(dose_mg):
    result = calculate_fixed_dose("oral_racemic", dose_mg=dose_mg)
    assert result.dose_mg == Decimal(str(dose_mg))
    assert result.warnings == ()


@pytest.mark.parametrize("dose_mg", [10, 24, 301, 450])
def test_a_fixed_dose_outside_25_to_300_mg_needs_an_override(dose_mg):
    with pytest.raises(DosingError) as caught:
        calculate_fixed_dose("sublingual_racemic", dose_mg=dose_mg)
    assert caught.value.field == "dose_mg"
    result = calculate_fixed_dose(
        "sublingual_racemic", dose_mg=dose_mg, override_reason="very low dose SL, Lara 2013"
    )
    assert "25-300 mg" in result.warnings[0]


def test_a_fixed_dose_too_high_for_a_light_patient_is_caught_by_the_per_kilo_limit():
    with pytest.raises(DosingError) as caught:
        calculate_fixed_dose("sublingual_racemic", dose_mg=300, weight_kg=35)
    assert "8.57 mg/kg" in caught.value.message
    assert "0.25-7 mg/kg" in caught.value.message


def test_a_fixed_dose_is_given_to_a_tenth_of_a_milligram():
    with pytest.raises(DosingError) as caught:
        calculate_fixed_dose("oral_racemic", dose_mg="100.25")
    assert caught.value.field == "dose_mg"


def test_a_fixed_dose_is_not_available_for_iv():
    with pytest.raises(DosingError) as caught:
        calculate_fixed_dose("iv_racemic", dose_mg=35)
    assert caught.value.field == "protocol"
