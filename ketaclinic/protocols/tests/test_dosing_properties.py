"""Properties of weight-based dosing that must hold for every weight and dose."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.protocols.catalog import get_protocol
from ketaclinic.protocols.dosing import DosingError, calculate_weight_based_dose

WEIGHTS_KG = st.decimals(min_value=30, max_value=250, places=1)
IV_MG_PER_KG = st.decimals(min_value="0.1", max_value="1.0", places=2)
ANY_MG_PER_KG = st.decimals(min_value="0.01", max_value="10", places=2)
MINUTES = st.integers(min_value=40, max_value=60)
HALF_STEP = Decimal("0.05")

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(weight_kg=WEIGHTS_KG, mg_per_kg=IV_MG_PER_KG, minutes=MINUTES)
def test_the_dose_is_weight_times_mg_per_kg_within_half_a_rounding_step(
    weight_kg, mg_per_kg, minutes
):
    result = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg, infusion_minutes=minutes
    )
    assert abs(result.dose_mg - weight_kg * mg_per_kg) <= HALF_STEP
    assert result.dose_mg.as_tuple().exponent == -1


@SETTINGS
@given(weight_kg=st.decimals(min_value=30, max_value=125, places=1), mg_per_kg=IV_MG_PER_KG)
def test_doubling_the_weight_doubles_the_dose_within_rounding(weight_kg, mg_per_kg):
    single = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg
    )
    double = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg * 2, dose_mg_per_kg=mg_per_kg
    )
    assert abs(double.dose_mg - 2 * single.dose_mg) <= 3 * HALF_STEP


@SETTINGS
@given(weight_kg=WEIGHTS_KG, mg_per_kg=IV_MG_PER_KG, minutes=MINUTES)
def test_rate_times_duration_is_the_dose_within_rate_rounding(weight_kg, mg_per_kg, minutes):
    result = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg, infusion_minutes=minutes
    )
    assert abs(result.rate_mg_per_min * minutes - result.dose_mg) <= Decimal("0.005") * minutes


@SETTINGS
@given(
    protocol=st.sampled_from(["iv_racemic", "im_racemic", "sublingual_racemic", "oral_racemic"]),
    weight_kg=WEIGHTS_KG,
    mg_per_kg=ANY_MG_PER_KG,
)
def test_a_dose_outside_the_allowed_range_never_passes_without_an_override(
    protocol, weight_kg, mg_per_kg
):
    allowed = get_protocol(protocol).dose.allowed_mg_per_kg
    if mg_per_kg in allowed:
        result = calculate_weight_based_dose(
            protocol, weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg
        )
        assert result.warnings == ()
    else:
        with pytest.raises(DosingError) as caught:
            calculate_weight_based_dose(protocol, weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg)
        assert caught.value.field == "dose_mg_per_kg"


@SETTINGS
@given(weight_kg=WEIGHTS_KG, mg_per_kg=ANY_MG_PER_KG)
def test_an_overridden_dose_always_carries_a_warning(weight_kg, mg_per_kg):
    allowed = get_protocol("iv_racemic").dose.allowed_mg_per_kg
    result = calculate_weight_based_dose(
        "iv_racemic", weight_kg=weight_kg, dose_mg_per_kg=mg_per_kg, override_reason="reviewed"
    )
    assert bool(result.warnings) == (mg_per_kg not in allowed)
