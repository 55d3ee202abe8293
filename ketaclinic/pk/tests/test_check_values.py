"""The engine reproduces the check values of REFERENCE.md section 6.

Regimen: 0.5 mg/kg over 40 min at 70 kg (35 mg IV from t = 0 to 40 min). "2 h" and "4 h" are
read from the start of the infusion (t = 120 and 240 min): see
test_check_times_count_from_the_start_of_the_infusion for why.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.pk import predict

WEIGHT_KG = 70
INFUSION = [{"route": "iv", "dose_mg": 0.5 * WEIGHT_KG, "start_min": 0, "duration_min": 40}]

# (model, minutes from infusion start, REFERENCE.md value in ng/mL, allowed absolute error).
# REFERENCE.md states whole ng/mL, so a stated value is only known to +/-0.5 ng/mL. Where 0.5%
# of the value is wider than that, 0.5% is used; the 4 h values (17, 35) are 2.0% and 1.2% off
# what the stated parameters give (17.34, 34.57) yet round to the stated integers, so 0.5% is
# impossible there and they are held to the rounding limit of +/-0.5 ng/mL instead.
REFERENCE_CHECK_VALUES = [
    ("domino_1984", 40, 240.0, 0.005 * 240.0),
    ("domino_1984", 120, 36.0, 0.005 * 36.0),
    ("domino_1984", 240, 17.0, 0.5),
    ("clements_1981", 40, 177.0, 0.005 * 177.0),
    ("clements_1981", 120, 59.0, 0.005 * 59.0),
    ("clements_1981", 240, 35.0, 0.5),
]

# What the stated parameters give exactly, from an independent matrix-exponential computation
# (scipy.linalg.expm of the augmented rate matrix), to pin the engine against regressions.
EXACT_VALUES = [
    ("domino_1984", 40, 240.33081067),
    ("domino_1984", 120, 35.829946601),
    ("domino_1984", 240, 17.340968008),
    ("clements_1981", 40, 177.31327554),
    ("clements_1981", 120, 58.834227067),
    ("clements_1981", 240, 34.567507436),
]


@pytest.mark.parametrize(("model", "time_min", "stated", "tolerance"), REFERENCE_CHECK_VALUES)
def test_prediction_matches_the_reference_check_value(model, time_min, stated, tolerance):
    concentration = predict(model, WEIGHT_KG, INFUSION, [time_min])[0]
    assert abs(concentration - stated) <= tolerance


@pytest.mark.parametrize(("model", "time_min", "exact"), EXACT_VALUES)
def test_prediction_equals_the_exact_solution_of_the_stated_parameters(model, time_min, exact):
    np.testing.assert_allclose(predict(model, WEIGHT_KG, INFUSION, [time_min]), [exact], rtol=1e-9)


@pytest.mark.parametrize(("model", "stated_peak"), [("domino_1984", 240), ("clements_1981", 177)])
def test_peak_is_at_the_end_of_infusion_and_matches_reference(model, stated_peak):
    times = np.arange(0, 240.001, 0.01)
    curve = predict(model, WEIGHT_KG, INFUSION, times)
    assert times[np.argmax(curve)] == pytest.approx(40)
    assert np.max(curve) == pytest.approx(stated_peak, rel=0.005)


@pytest.mark.parametrize(
    ("model", "stated_2h", "stated_4h"), [("domino_1984", 36, 17), ("clements_1981", 59, 35)]
)
def test_check_times_count_from_the_start_of_the_infusion(model, stated_2h, stated_4h):
    from_start = predict(model, WEIGHT_KG, INFUSION, [120, 240])
    from_end = predict(model, WEIGHT_KG, INFUSION, [160, 280])
    assert np.all(np.abs(from_start - [stated_2h, stated_4h]) <= 0.5)
    # Counted from the end of the infusion the values miss by 8 (Domino) and 11 (Clements) ng/mL.
    assert np.all(np.abs(from_end - [stated_2h, stated_4h]) > 3)


def test_concentrations_scale_linearly_with_the_mg_per_kg_dose():
    double = [{**INFUSION[0], "dose_mg": 1.0 * WEIGHT_KG}]
    np.testing.assert_allclose(
        predict("clements_1981", WEIGHT_KG, double, [40]),
        2 * predict("clements_1981", WEIGHT_KG, INFUSION, [40]),
        rtol=1e-12,
    )
