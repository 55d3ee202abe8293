"""Our exact solution agrees with the PyTCI package run on the same published parameters."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.pk import predict
from ketaclinic.pk.tests.pytci_model import PublishedKetamine, pytci_infusion_ng_per_ml


@pytest.mark.parametrize("model", ["domino_1984", "clements_1981"])
def test_infusion_agrees_with_pytci_every_ten_seconds_for_four_hours(model):
    # 0.5 mg/kg over 40 min at 70 kg (REFERENCE.md section 6 check regimen).
    theirs = pytci_infusion_ng_per_ml(model, 70, 35, duration_s=2400, horizon_s=14_400, step_s=10)
    ours = predict(
        model,
        70,
        [{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}],
        np.arange(theirs.size) * 10 / 60,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_bolus_then_washout_agrees_with_pytci():
    patient = PublishedKetamine("domino_1984", 80)
    patient.give_drug(20_000)  # 20 mg in ug
    theirs = []
    for _ in range(60):
        patient.wait_time(30)
        theirs.append(patient.x1)
    ours = predict("domino_1984", 80, [{"route": "iv", "dose_mg": 20}], np.arange(1, 61) * 0.5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
