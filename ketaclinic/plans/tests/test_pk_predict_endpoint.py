"""`POST /api/v1/pk/predict`: the engine's answer over HTTP, with 422 for bad regimens."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic import pk
from ketaclinic.conftest import signed_in

from .helpers import fields_of, last_event, post_json

URL = "/api/v1/pk/predict"
IV = {"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}


def test_a_single_patient_prediction_matches_the_engine(prescriber):
    response = post_json(
        signed_in(prescriber),
        URL,
        {"model": "clements_1981", "weight_kg": 70, "doses": [IV], "times_min": [0, 40, 120, 240]},
    )
    assert response.status_code == 200
    expected = pk.predict("clements_1981", 70, [IV], [0, 40, 120, 240])
    np.testing.assert_allclose(
        response.json()["concentration_ng_ml"], expected, rtol=1e-6, atol=1e-3
    )
    assert response.json()["concentration_ng_ml"][1] == pytest.approx(177.3, abs=0.1)
    assert last_event("pk.predict").actor == prescriber


def test_a_population_request_returns_the_three_percentiles(nurse):
    body = {
        "weight_kg": 70,
        "doses": [IV],
        "times_min": list(range(0, 241, 10)),
        "population": {"n": 500, "seed": 7},
    }
    first = post_json(signed_in(nurse), URL, body).json()
    second = post_json(signed_in(nurse), URL, body).json()
    assert set(first) == {"p5", "p50", "p95", "warnings"}
    assert first == second, "deterministic with a seed"
    assert all(
        lo <= mid <= hi for lo, mid, hi in zip(first["p5"], first["p50"], first["p95"], strict=True)
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"doses": [{"route": "iv", "dose_mg": -5}]}, "doses[0].dose_mg"),
        ({"doses": [{"route": "nasal-spray", "dose_mg": 5}]}, "doses[0].route"),
        ({"model": "hijazi_2003"}, "model"),
        ({"doses": [{"route": "im", "dose_mg": 35, "duration_min": 10}]}, "doses[0].duration_min"),
        ({"population": {"n": 10_001, "seed": 1}}, "population.n"),
        ({"times_min": list(range(100_001))}, "times_min"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(prescriber, body, field):
    payload = {"weight_kg": 70, "doses": [IV], "times_min": [0, 60]} | body
    response = post_json(signed_in(prescriber), URL, payload)
    assert response.status_code == 422
    assert field in fields_of(response)


def test_a_weight_outside_the_model_population_warns_but_answers(prescriber):
    response = post_json(
        signed_in(prescriber), URL, {"weight_kg": 160, "doses": [IV], "times_min": [40]}
    )
    assert response.status_code == 200
    assert response.json()["warnings"]


def test_patients_may_not_use_the_calculator(patient_a):
    response = post_json(
        signed_in(patient_a.user), URL, {"weight_kg": 70, "doses": [IV], "times_min": [40]}
    )
    assert response.status_code == 403
