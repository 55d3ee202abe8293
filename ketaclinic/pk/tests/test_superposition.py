"""Superposition: the concentration of two regimens given together is the sum of each alone."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from ketaclinic.pk import predict
from ketaclinic.pk.tests import strategies

TIMES_MIN = np.linspace(0, 600, 301)


@settings(max_examples=60, deadline=None)
@given(
    model=strategies.models,
    weight_kg=strategies.weights_kg,
    first=strategies.regimens,
    second=strategies.regimens,
)
def test_two_regimens_together_give_the_sum_of_each_alone(model, weight_kg, first, second):
    together = predict(model, weight_kg, first + second, TIMES_MIN)
    alone = [predict(model, weight_kg, regimen, TIMES_MIN) for regimen in (first, second)]
    np.testing.assert_allclose(together, alone[0] + alone[1], rtol=1e-12, atol=1e-12)


def test_an_empty_regimen_gives_zero_concentration():
    np.testing.assert_array_equal(predict("clements_1981", 70, [], TIMES_MIN), 0.0)
