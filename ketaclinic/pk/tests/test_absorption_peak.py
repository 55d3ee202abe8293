"""Extravascular routes peak at the Tmax targeted from REFERENCE.md, under each model."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.pk import get_model, predict, route_catalog
from ketaclinic.pk.routes import absorption_rate_per_min

EXTRAVASCULAR = [code for code, route in route_catalog().items() if route.is_extravascular]


@pytest.mark.parametrize("route", EXTRAVASCULAR)
@pytest.mark.parametrize("model", ["clements_1981", "domino_1984"])
def test_single_dose_peaks_at_the_route_tmax_target(model, route):
    target = route_catalog()[route].tmax_target_min
    times = np.arange(0, 1_000, 0.01)
    curve = predict(model, 70, [{"route": route, "dose_mg": 50}], times)
    assert times[np.argmax(curve)] == pytest.approx(target, abs=0.01)


@pytest.mark.parametrize("route", EXTRAVASCULAR)
def test_tmax_target_lies_within_the_reference_range(route):
    low, high = route_catalog()[route].tmax_min_range
    assert low <= route_catalog()[route].tmax_target_min <= high


def test_the_same_route_needs_a_different_absorption_rate_under_each_model():
    tmax = route_catalog()["im"].tmax_target_min
    clements = absorption_rate_per_min(get_model("clements_1981"), tmax)
    domino = absorption_rate_per_min(get_model("domino_1984"), tmax)
    assert clements > 5 * domino


def test_an_unreachable_tmax_is_refused():
    with pytest.raises(ValueError, match="no absorption rate"):
        absorption_rate_per_min(get_model("clements_1981"), 0.0)


def test_a_dose_peaks_later_when_started_later():
    early = predict("clements_1981", 70, [{"route": "oral", "dose_mg": 100}], [60])
    late = predict("clements_1981", 70, [{"route": "oral", "dose_mg": 100, "start_min": 30}], [90])
    np.testing.assert_allclose(early, late, rtol=1e-12)


def test_esketamine_uses_its_own_bioavailability_and_is_labelled_approximate():
    esketamine = route_catalog()["esketamine"]
    assert esketamine.bioavailability == 0.48
    assert esketamine.approximate
    assert "APPROXIMATE" in esketamine.note
