"""calculate_dose, the API entry point, dispatches on the protocol's dose basis."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.protocols.dosing import DosingError, calculate_dose


def test_an_iv_request_is_dosed_per_kilo():
    result = calculate_dose("iv_racemic", weight_kg="73.4", dose_mg_per_kg="0.5")
    assert result.as_dict() == {
        "protocol_code": "iv_racemic",
        "dose_mg": "36.7",
        "dose_mg_per_kg": "0.5",
        "rate_mg_per_min": "0.92",
        "infusion_minutes": 40,
        "devices": None,
        "warnings": [],
    }


def test_an_esketamine_request_ignores_the_weight():
    result = calculate_dose(
        "esketamine_trd", dose_mg=56, session_number=2, age_years=40, weight_kg=500
    )
    assert (result.dose_mg, result.devices) == (Decimal(56), 2)


@pytest.mark.parametrize(
    ("protocol", "kwargs", "field"),
    [
        ("iv_racemic", {"weight_kg": 70, "dose_mg": 35}, "dose_mg"),
        ("iv_racemic", {"weight_kg": 70}, "dose_mg_per_kg"),
        ("iv_racemic", {"dose_mg_per_kg": "0.5"}, "weight_kg"),
        ("oral_racemic", {"weight_kg": 70, "dose_mg": 100, "dose_mg_per_kg": 1}, "dose_mg"),
        (
            "esketamine_trd",
            {"dose_mg_per_kg": "0.8", "session_number": 2, "age_years": 40},
            "dose_mg_per_kg",
        ),
        (
            "esketamine_trd",
            {"dose_mg": 56, "session_number": 2, "age_years": 40, "infusion_minutes": 5},
            "infusion_minutes",
        ),
        ("esketamine_trd", {"session_number": 2, "age_years": 40}, "dose_mg"),
        ("ketamine", {"weight_kg": 70, "dose_mg_per_kg": "0.5"}, "protocol"),
        (
            "iv_racemic",
            {"weight_kg": 70, "dose_mg_per_kg": "0.5", "override_reason": 1},
            "override_reason",
        ),
    ],
)
def test_ambiguous_or_incomplete_requests_are_refused_with_the_field(protocol, kwargs, field):
    with pytest.raises(DosingError) as caught:
        calculate_dose(protocol, **kwargs)
    assert caught.value.field == field
