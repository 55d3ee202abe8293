"""Linear kinetics: doubling every dose doubles every concentration."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from ketaclinic.pk import predict
from ketaclinic.pk.tests import strategies

TIMES_MIN = np.linspace(0, 600, 301)


@settings(max_examples=60, deadline=None)
@given(model=strategies.models, weight_kg=strategies.weights_kg, doses=strategies.regimens)
def test_doubling_every_dose_doubles_every_concentration(model, weight_kg, doses):
    doubled = [{**dose, "dose_mg": 2 * dose["dose_mg"]} for dose in doses]
    np.testing.assert_allclose(
        predict(model, weight_kg, doubled, TIMES_MIN),
        2 * predict(model, weight_kg, doses, TIMES_MIN),
        rtol=1e-12,
        atol=1e-300,
    )
