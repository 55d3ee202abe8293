"""A model used outside its validated age or weight range still predicts, but warns."""

from __future__ import annotations

import warnings

import pytest

from ketaclinic.pk import OutsideValidatedPopulationWarning, get_model, predict, predict_population

DOSE = [{"route": "iv", "dose_mg": 35, "duration_min": 40}]


def test_a_patient_inside_the_range_gets_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict("clements_1981", 70, DOSE, [40], age_years=40)


@pytest.mark.parametrize("weight_kg", [30, 150])
def test_a_weight_outside_the_range_warns_and_still_predicts(weight_kg):
    with pytest.warns(OutsideValidatedPopulationWarning, match="weight"):
        concentration = predict("domino_1984", weight_kg, DOSE, [40])
    assert concentration[0] > 0


def test_an_age_outside_the_range_warns():
    with pytest.warns(OutsideValidatedPopulationWarning, match="age 80 years"):
        predict("clements_1981", 70, DOSE, [40], age_years=80)


def test_population_prediction_warns_too():
    with pytest.warns(OutsideValidatedPopulationWarning):
        predict_population("clements_1981", 200, DOSE, [40], n=10, seed=0)


def test_the_warnings_are_available_as_data_with_their_basis():
    messages = get_model("clements_1981").population_warnings(weight_kg=150, age_years=10)
    assert len(messages) == 2
    assert all("(unverified: No validated population is published" in m for m in messages)
