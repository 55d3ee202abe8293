"""Bad input raises RegimenError naming the field and the rule broken."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from ketaclinic.pk import RegimenError, predict, predict_population

GOOD_DOSE = {"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}
GOOD = {"model": "clements_1981", "weight_kg": 70, "doses": [GOOD_DOSE], "times_min": [0, 60]}


def with_dose(**changes):
    dose = {**GOOD_DOSE, **changes}
    return {**GOOD, "doses": [GOOD_DOSE, {k: v for k, v in dose.items() if v is not ...}]}


BAD_PREDICT_INPUT = [
    ("unknown model", {**GOOD, "model": "marsh"}, "model"),
    ("model not a string", {**GOOD, "model": ["clements_1981"]}, "model"),
    ("zero weight", {**GOOD, "weight_kg": 0}, "weight_kg"),
    ("negative weight", {**GOOD, "weight_kg": -70}, "weight_kg"),
    ("weight not a number", {**GOOD, "weight_kg": "70"}, "weight_kg"),
    ("infinite weight", {**GOOD, "weight_kg": float("inf")}, "weight_kg"),
    ("zero dose", with_dose(dose_mg=0), "doses[1].dose_mg"),
    ("negative dose", with_dose(dose_mg=-5), "doses[1].dose_mg"),
    ("NaN dose", with_dose(dose_mg=float("nan")), "doses[1].dose_mg"),
    ("boolean dose", with_dose(dose_mg=True), "doses[1].dose_mg"),
    ("missing dose", with_dose(dose_mg=...), "doses[1].dose_mg"),
    ("unknown route", with_dose(route="rectal"), "doses[1].route"),
    ("missing route", with_dose(route=...), "doses[1].route"),
    ("duration on IM", with_dose(route="im", duration_min=10), "doses[1].duration_min"),
    ("duration on oral", with_dose(route="oral", duration_min=5), "doses[1].duration_min"),
    ("negative duration", with_dose(duration_min=-1), "doses[1].duration_min"),
    ("negative start", with_dose(start_min=-1), "doses[1].start_min"),
    ("misspelt field", with_dose(dose=35), "doses[1].dose"),
    ("dose not an object", {**GOOD, "doses": [35]}, "doses[0]"),
    ("doses not a list", {**GOOD, "doses": GOOD_DOSE}, "doses"),
    ("too many doses", {**GOOD, "doses": [GOOD_DOSE] * 1001}, "doses"),
    ("too many time points", {**GOOD, "times_min": np.zeros(100_001)}, "times_min"),
    ("negative time", {**GOOD, "times_min": [-1, 0]}, "times_min"),
    ("NaN time", {**GOOD, "times_min": [0, float("nan")]}, "times_min"),
    ("time not a number", {**GOOD, "times_min": ["soon"]}, "times_min"),
    ("times not a list", {**GOOD, "times_min": 60}, "times_min"),
    ("nested times", {**GOOD, "times_min": [[0, 1]]}, "times_min"),
    ("negative age", {**GOOD, "age_years": -1}, "age_years"),
    ("age not a number", {**GOOD, "age_years": "forty"}, "age_years"),
]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [case[1:] for case in BAD_PREDICT_INPUT],
    ids=[case[0] for case in BAD_PREDICT_INPUT],
)
def test_bad_input_raises_regimen_error_naming_the_field(arguments, field):
    with pytest.raises(RegimenError) as caught:
        predict(**arguments)
    assert caught.value.field == field
    assert caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("n", "seed", "field"),
    [(0, 1, "n"), (10_001, 1, "n"), (-3, 1, "n"), (2.5, 1, "n"), (True, 1, "n"), (10, -1, "seed")],
)
def test_population_size_and_seed_are_checked(n, seed, field):
    with pytest.raises(RegimenError) as caught:
        predict_population(**GOOD, n=n, seed=seed)
    assert caught.value.field == field


def test_population_size_times_time_points_is_capped():
    with pytest.raises(RegimenError, match="10,000,000") as caught:
        predict_population(**{**GOOD, "times_min": np.arange(1_001.0)}, n=10_000, seed=0)
    assert caught.value.field == "n"


def test_regimen_error_is_a_value_error_with_field_and_message():
    with pytest.raises(ValueError, match=r"only the iv route takes a duration"):
        predict(**with_dose(route="esketamine", duration_min=5))


def test_the_edges_of_the_rules_are_accepted():
    edge = {
        **GOOD,
        "doses": [
            {"route": "im", "dose_mg": Decimal("0.1"), "start_min": 0, "duration_min": 0},
            {"route": "iv", "dose_mg": 1e-3},
        ],
        "times_min": np.zeros(100_000),
    }
    assert predict(**edge).shape == (100_000,)
    assert predict_population(**GOOD, n=1, seed=0)["p50"].shape == (2,)
    assert predict_population(**GOOD, n=10_000, seed=0)["p50"].shape == (2,)
