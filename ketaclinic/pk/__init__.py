"""Pharmacokinetics of ketamine: exact linear compartment models, pure numpy/scipy, no Django.

Public API (the web layer and the benchmarks call these):

- :func:`predict` (model, weight_kg, doses, times_min) -> ndarray of ng/mL
- :func:`predict_population` (model, weight_kg, doses, times_min, n, seed) -> dict with
  ``p5``, ``p50``, ``p95`` ndarrays of ng/mL
- :class:`RegimenError` (ValueError with ``field`` and ``message``): bad input, HTTP 422
- :class:`OutsideValidatedPopulationWarning`: the patient is outside the model's validated
  age or weight range (a Python warning; the prediction is still returned)

Model codes: ``clements_1981`` (default for venous predictions), ``domino_1984``. Route codes:
``iv``, ``im``, ``intranasal``, ``esketamine``, ``sublingual``, ``oral``. Every parameter is
data in ``ketaclinic/pk/data/`` naming its source in ../shared/domain/REFERENCE.md section 6.
"""

from __future__ import annotations

from ketaclinic.pk.models import (
    DEFAULT_MODEL,
    MODEL_CODES,
    CompartmentModel,
    OutsideValidatedPopulationWarning,
    get_model,
)
from ketaclinic.pk.population import Variability, default_variability
from ketaclinic.pk.prediction import predict, predict_population
from ketaclinic.pk.regimen import RegimenError
from ketaclinic.pk.routes import ROUTE_CODES, Route, route_catalog

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_CODES",
    "ROUTE_CODES",
    "CompartmentModel",
    "OutsideValidatedPopulationWarning",
    "RegimenError",
    "Route",
    "Variability",
    "default_variability",
    "get_model",
    "predict",
    "predict_population",
    "route_catalog",
]
