"""``POST /api/v1/pk/predict``: predicted concentrations for any regimen (issue #7)."""

from __future__ import annotations

import math
import warnings
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema

from ketaclinic import pk
from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.protocols.catalog import catalog

router = Router(tags=["pharmacokinetics"])
MAX_TIMES = 100_000
MAX_PATIENTS = 10_000
VALUE_KEYS = ("concentration_ng_ml", "p5", "p50", "p95")


class RegimenDoseIn(Schema):
    route: str
    dose_mg: float
    start_min: float = 0
    duration_min: float | None = None


class PopulationIn(Schema):
    n: int = Field(1000, ge=1, le=MAX_PATIENTS)
    seed: int = Field(0, ge=0)


class PredictIn(Schema):
    model: str = pk.DEFAULT_MODEL
    weight_kg: float
    doses: list[RegimenDoseIn] = Field(max_length=1000)
    times_min: list[float] = Field(min_length=1, max_length=MAX_TIMES)
    population: PopulationIn | None = None


@router.post("/predict", summary="Predicted plasma ketamine (ng/mL): a model, not a measurement")
def predict(request, payload: PredictIn):
    require_permission(request, "clinical.calculate")
    check_weight(payload.weight_kg)
    doses = [d.dict(exclude_none=True) for d in payload.doses]
    times = np.asarray(payload.times_min, dtype=float)
    trail.record(
        action="pk.predict",
        request=request,
        detail={"model": payload.model, "doses": len(doses), "times": len(times)},
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pk.OutsideValidatedPopulationWarning)
            if payload.population is None:
                values = pk.predict(payload.model, payload.weight_kg, doses, times)
                body = {"concentration_ng_ml": rounded(values)}
            else:
                band = pk.predict_population(
                    payload.model,
                    payload.weight_kg,
                    doses,
                    times,
                    n=payload.population.n,
                    seed=payload.population.seed,
                )
                body = {key: rounded(band[key]) for key in ("p5", "p50", "p95")}
    except pk.RegimenError as error:
        raise ValidationError({error.field: error.message}) from error
    if not all(math.isfinite(value) for key in VALUE_KEYS if key in body for value in body[key]):
        # The API never answers NaN or Infinity: a dose given over a vanishing time is one.
        raise ValidationError(
            {"doses": "the regimen gives no finite concentration; check doses and durations"}
        )
    body["warnings"] = [str(w.message) for w in caught]
    return body


def check_weight(weight_kg: float) -> None:
    """The weights the dose calculator accepts: a prediction for 1e308 kg is a typing error."""
    allowed = catalog().dosing_policy.weight_kg
    if not allowed.min <= Decimal(str(weight_kg)) <= allowed.max:
        raise ValidationError(
            {
                "weight_kg": f"{weight_kg:g} kg is outside {allowed.describe('kg')} "
                f"({'; '.join(allowed.sources)}); check the weight"
            }
        )


def rounded(values) -> list[float]:
    return [round(float(v), 3) for v in values]
