"""Mass balance: AUC(0 to infinity) x clearance = bioavailable dose, for every route.

AUC is integrated numerically (Simpson's rule on a fine grid out to 20,000 min after the dose, where every
model's slowest exponential has decayed by more than e^-70, so the tail is negligible), and
clearance is k10 x V1 from the published parameters, so neither side uses the solver's algebra.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.integrate import simpson

from ketaclinic.pk import ROUTE_CODES, get_model, predict, route_catalog
from ketaclinic.pk.solution import disposition
from ketaclinic.pk.tests import strategies

GRID_MIN = np.unique(
    np.concatenate(
        [
            np.linspace(0, 60, 24_001),
            np.linspace(60, 1_500, 28_801),
            np.linspace(1_500, 20_000, 18_501),
        ]
    )
)


def auc_mg_min_per_l(model: str, weight_kg: float, dose: dict) -> float:
    # Integrate from the dose (a bolus jumps there) and split at the end of any infusion (a
    # kink), so Simpson's rule only ever sees smooth pieces.
    duration = dose.get("duration_min", 0)
    pieces = [dose["start_min"] + duration + GRID_MIN]
    if duration > 0:
        pieces.insert(0, dose["start_min"] + np.linspace(0, duration, 2_001))
    total = 0.0
    for grid in pieces:
        concentration_mg_per_l = predict(model, weight_kg, [dose], grid) / 1000.0
        total += simpson(concentration_mg_per_l, x=grid)
    return total


def clearance_l_per_min(model: str, weight_kg: float) -> float:
    published = get_model(model)
    return published.k10_per_min * published.v1_l_per_kg * weight_kg


@pytest.mark.parametrize("route", ROUTE_CODES)
@pytest.mark.parametrize("model", ["clements_1981", "domino_1984"])
def test_auc_times_clearance_equals_bioavailable_dose_for_each_route(model, route):
    dose = {"route": route, "dose_mg": 50, "start_min": 5}
    expected_mg = route_catalog()[route].bioavailability * 50
    assert auc_mg_min_per_l(model, 70, dose) * clearance_l_per_min(model, 70) == pytest.approx(
        expected_mg, rel=1e-6
    )


@settings(max_examples=15, deadline=None)
@given(
    model=strategies.models,
    weight_kg=strategies.weights_kg,
    dose=strategies.doses(),
)
def test_every_dose_is_eliminated_in_proportion_to_its_bioavailability(model, weight_kg, dose):
    expected_mg = route_catalog()[dose["route"]].bioavailability * dose["dose_mg"]
    eliminated_mg = auc_mg_min_per_l(model, weight_kg, dose) * clearance_l_per_min(model, weight_kg)
    assert eliminated_mg == pytest.approx(expected_mg, rel=1e-6)


@pytest.mark.parametrize("model", ["clements_1981", "domino_1984"])
def test_the_eigen_form_keeps_the_published_clearance(model):
    scaled = get_model(model).scaled(70)
    eigen = disposition(scaled.v1_l, scaled.cl_l_per_min, [scaled.q_l_per_min], [scaled.vp_l])
    assert eigen.clearance_l_per_min[0] == pytest.approx(clearance_l_per_min(model, 70), rel=1e-12)
    assert eigen.fractions.sum() == pytest.approx(1.0, rel=1e-12)
