"""PyTCI's three-compartment engine loaded with one of our published ketamine models.

PyTCI (pip PyTCI) ships no ketamine model; its ``Three`` base class takes V1 (L) and rate
constants per minute, converts them to per second in ``setup()``, and with the ``exact``
integrator advances by matrix exponentials. Dosing in ug makes ``x1`` ug/L = ng/mL. Used only
by the tests and ``bench/pk.py``, never by the engine.
"""

from __future__ import annotations

import numpy as np
from PyTCI.models.base import Three

from ketaclinic.pk import get_model


class PublishedKetamine(Three):
    """A ketaclinic model (``clements_1981`` has k13 = k31 = 0) inside PyTCI."""

    def __init__(self, model_code: str, weight_kg: float) -> None:
        model = get_model(model_code)
        self.v1 = model.v1_l_per_kg * weight_kg
        self.k10 = model.k10_per_min
        self.k12 = model.k12_per_min
        self.k13 = model.k13_per_min
        self.k21 = model.k21_per_min
        self.k31 = model.k31_per_min
        self.keo = 0.0  # no effect site: plasma only
        self.setup()
        self.set_integrator("exact")


def pytci_infusion_ng_per_ml(
    model_code: str, weight_kg: float, dose_mg: float, duration_s: int, horizon_s: int, step_s: int
) -> np.ndarray:
    """Plasma concentration every ``step_s`` seconds from 0 to ``horizon_s`` (inclusive)."""
    patient = PublishedKetamine(model_code, weight_kg)
    rate_ug_per_s = dose_mg * 1000.0 / duration_s
    out = np.empty(horizon_s // step_s + 1)
    out[0] = patient.x1
    for i in range(1, out.size):
        if i * step_s <= duration_s:
            patient.giveoverseconds(rate_ug_per_s, step_s)
        else:
            patient.wait_time(step_s)
        out[i] = patient.x1
    return out
