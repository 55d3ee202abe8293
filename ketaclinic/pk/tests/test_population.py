"""Population prediction: log-normal variability, percentiles, deterministic with a seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ketaclinic.pk import (
    Variability,
    default_variability,
    get_model,
    predict,
    predict_population,
    prediction,
    route_catalog,
)
from ketaclinic.pk.population import log_normal_factors, virtual_patients

INFUSION = [{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}]
MIXED = [*INFUSION, {"route": "sublingual", "dose_mg": 50, "start_min": 120}]
TIMES_MIN = np.arange(0, 241.0, 5)


def test_it_returns_the_5th_50th_and_95th_percentiles_over_time():
    result = predict_population("clements_1981", 70, MIXED, TIMES_MIN, n=500, seed=1)
    assert set(result) == {"p5", "p50", "p95"}
    for percentile in result.values():
        assert percentile.shape == TIMES_MIN.shape
    assert np.all(result["p5"] <= result["p50"])
    assert np.all(result["p50"] <= result["p95"])
    assert np.all(result["p5"][1:] < result["p95"][1:])


def test_the_same_seed_gives_the_same_result_and_another_seed_does_not():
    first = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=200, seed=7)
    again = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=200, seed=7)
    other = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=200, seed=8)
    np.testing.assert_array_equal(first["p50"], again["p50"])
    assert not np.array_equal(first["p50"], other["p50"])


def test_without_variability_every_percentile_is_the_typical_patient():
    none = dataclasses.replace(
        default_variability(), cv_clearance=0, cv_volume=0, cv_bioavailability=0
    )
    result = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=50, seed=3, variability=none)
    typical = predict("domino_1984", 70, MIXED, TIMES_MIN)
    for percentile in result.values():
        np.testing.assert_allclose(percentile, typical, rtol=1e-10, atol=1e-12)


def test_percentiles_do_not_depend_on_how_times_are_blocked(monkeypatch):
    whole = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=300, seed=5)
    monkeypatch.setattr(prediction, "_POPULATION_BLOCK_ELEMENTS", 300 * 7)
    blocked = predict_population("domino_1984", 70, MIXED, TIMES_MIN, n=300, seed=5)
    for key in whole:
        # Equal up to the last bit or two: SIMD loops round block edges differently.
        np.testing.assert_allclose(blocked[key], whole[key], rtol=1e-13)


def test_the_median_patient_is_close_to_the_typical_patient():
    result = predict_population("clements_1981", 70, INFUSION, [40, 120], n=10_000, seed=11)
    typical = predict("clements_1981", 70, INFUSION, [40, 120])
    np.testing.assert_allclose(result["p50"], typical, rtol=0.03)


def test_log_normal_factors_have_median_one_and_the_requested_cv():
    factors = log_normal_factors(np.random.default_rng(0), (400_000, 2), np.array([0.3, 0.1]))
    np.testing.assert_allclose(np.median(factors, axis=0), [1, 1], rtol=0.01)
    np.testing.assert_allclose(factors.std(axis=0) / factors.mean(axis=0), [0.3, 0.1], rtol=0.02)


def test_drawn_bioavailability_never_exceeds_one():
    patients = virtual_patients(
        get_model("clements_1981"),
        70,
        list(route_catalog().values()),
        5_000,
        np.random.default_rng(0),
        dataclasses.replace(default_variability(), cv_bioavailability=1.0),
    )
    for route, fractions in patients.bioavailability.items():
        assert np.all(fractions <= 1.0), route
        assert np.all(fractions > 0), route


def test_variability_only_widens_extravascular_routes_through_bioavailability():
    only_f = Variability(0, 0, 0.5, source="test")
    iv = predict_population("clements_1981", 70, INFUSION, [60], n=300, seed=2, variability=only_f)
    assert iv["p5"][0] == pytest.approx(iv["p95"][0], rel=1e-12)
    oral = [{"route": "oral", "dose_mg": 100}]
    po = predict_population("clements_1981", 70, oral, [60], n=300, seed=2, variability=only_f)
    assert po["p95"][0] > 1.5 * po["p5"][0]


def test_a_negative_cv_is_refused():
    with pytest.raises(ValueError, match="cv_volume"):
        Variability(0.3, -0.1, 0.3, source="test")


def test_default_cvs_are_marked_unverified():
    assert "[U]" in default_variability().source
