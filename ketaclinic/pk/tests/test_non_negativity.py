"""Concentrations are never negative, at any time, for any regimen."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pk import predict
from ketaclinic.pk.tests import strategies


@settings(max_examples=80, deadline=None)
@given(
    model=strategies.models,
    weight_kg=strategies.weights_kg,
    doses=strategies.regimens,
    times_min=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50),
)
def test_concentrations_are_never_negative(model, weight_kg, doses, times_min):
    assert np.all(predict(model, weight_kg, doses, times_min) >= 0)


def test_concentration_is_zero_before_the_first_dose():
    doses = [{"route": "oral", "dose_mg": 100, "start_min": 60}]
    np.testing.assert_array_equal(predict("domino_1984", 70, doses, [0, 30, 59.999]), 0.0)
