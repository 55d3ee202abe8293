"""While an IV infusion runs, the plasma concentration rises strictly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pk import predict
from ketaclinic.pk.tests import strategies


@settings(max_examples=60, deadline=None)
@given(
    model=strategies.models,
    weight_kg=strategies.weights_kg,
    dose_mg=strategies.dose_amounts_mg,
    start_min=strategies.start_times_min,
    duration_min=st.floats(min_value=1, max_value=240),
)
def test_concentration_rises_strictly_while_an_infusion_runs(
    model, weight_kg, dose_mg, start_min, duration_min
):
    infusion = {
        "route": "iv",
        "dose_mg": dose_mg,
        "start_min": start_min,
        "duration_min": duration_min,
    }
    times = start_min + np.linspace(0, duration_min, 200)
    assert np.all(np.diff(predict(model, weight_kg, [infusion], times)) > 0)


def test_concentration_falls_once_the_infusion_stops():
    infusion = {"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}
    after = predict("clements_1981", 70, [infusion], np.linspace(40, 600, 100))
    assert np.all(np.diff(after) < 0)


def test_a_rate_change_written_as_consecutive_infusions_is_continuous():
    # 0.5 mg/kg over 40 min split into two 20-min halves equals the single infusion.
    whole = [{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}]
    halves = [
        {"route": "iv", "dose_mg": 17.5, "start_min": 0, "duration_min": 20},
        {"route": "iv", "dose_mg": 17.5, "start_min": 20, "duration_min": 20},
    ]
    times = np.linspace(0, 240, 241)
    np.testing.assert_allclose(
        predict("domino_1984", 70, halves, times),
        predict("domino_1984", 70, whole, times),
        rtol=1e-12,
    )
