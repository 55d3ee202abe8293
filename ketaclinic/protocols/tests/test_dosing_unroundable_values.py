"""A dose too large for the 28-digit Decimal context is a DosingError naming the field, not
an InvalidOperation crash, even when an override reason lets it past the protocol's range."""

from __future__ import annotations

import pytest

from ketaclinic.protocols import dosing


@pytest.mark.parametrize("per_kg", ["1e308", "1e26"])
def test_an_overridden_dose_per_kg_too_large_to_round_is_refused(per_kg):
    with pytest.raises(dosing.DosingError) as refused:
        dosing.calculate_dose(
            "iv_racemic", weight_kg=70, dose_mg_per_kg=per_kg, override_reason="typo test"
        )

    assert refused.value.field == "dose_mg_per_kg"
    assert "too large to calculate a dose" in refused.value.message


def test_an_overridden_fixed_dose_too_large_to_round_is_refused():
    with pytest.raises(dosing.DosingError) as refused:
        dosing.calculate_dose("oral_racemic", dose_mg="1e308", override_reason="typo test")

    assert refused.value.field == "dose_mg"
