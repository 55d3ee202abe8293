"""Public entry points: plasma concentration of one typical patient or of a virtual population.

Both functions validate every input first and raise :class:`~ketaclinic.pk.regimen.RegimenError`
(a ``ValueError`` with ``field`` and ``message`` attributes) on bad input, then solve exactly by
superposition (:mod:`ketaclinic.pk.solution`). Concentrations are plasma (central compartment)
racemic ketamine in ng/mL; doses in mg; times in minutes from the start of the session.

A patient outside the model's validated age or weight range gets a prediction and an
:class:`~ketaclinic.pk.models.OutsideValidatedPopulationWarning` per broken bound.

References
----------
.. [1] ../shared/domain/REFERENCE.md section 6 (models, routes, check values).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ketaclinic.pk.models import CompartmentModel, OutsideValidatedPopulationWarning, get_model
from ketaclinic.pk.population import (
    Variability,
    VirtualPatients,
    default_variability,
    virtual_patients,
)
from ketaclinic.pk.regimen import (
    Dose,
    RegimenError,
    check_population_size,
    check_seed,
    check_times,
    check_weight,
    finite_number,
    parse_doses,
)
from ketaclinic.pk.routes import Route, absorption_rate_per_min, route_catalog
from ketaclinic.pk.solution import concentrations_ng_per_ml, disposition

PERCENTILES = {"p5": 5.0, "p50": 50.0, "p95": 95.0}
# Patients x times held in memory at once by predict_population (about 32 MB of float64).
_POPULATION_BLOCK_ELEMENTS = 4_000_000


def _percentiles(curves: np.ndarray) -> np.ndarray:
    """PERCENTILES over patients of a time-major (T, N) block, shape (len(PERCENTILES), T)."""
    # Patients lie along the contiguous last axis, which keeps the partial sort fast; the block
    # is a fresh array, ours to overwrite.
    return np.percentile(curves, list(PERCENTILES.values()), axis=1, overwrite_input=True)


@dataclass(frozen=True)
class _Request:
    model: CompartmentModel
    weight_kg: float
    doses: tuple[Dose, ...]
    times: np.ndarray
    routes: dict[str, Route]

    def absorption_per_min(self) -> dict[str, float]:
        used = {dose.route for dose in self.doses}
        return {
            code: absorption_rate_per_min(self.model, route.tmax_target_min)
            for code, route in self.routes.items()
            if route.is_extravascular and code in used
        }


def _request(
    model: Any,
    weight_kg: Any,
    doses: Any,
    times_min: Any,
    age_years: Any,
    routes: Mapping[str, Route] | None,
) -> _Request:
    catalog = dict(route_catalog()) if routes is None else {**route_catalog(), **routes}
    request = _Request(
        model=get_model(model),
        weight_kg=check_weight(weight_kg),
        doses=parse_doses(doses, catalog),
        times=check_times(times_min),
        routes=catalog,
    )
    age = None if age_years is None else finite_number(age_years, "age_years")
    if age is not None and age < 0:
        raise RegimenError("age_years", "must not be negative")
    for message in request.model.population_warnings(request.weight_kg, age):
        warnings.warn(message, OutsideValidatedPopulationWarning, stacklevel=3)
    return request


def predict(
    model: str,
    weight_kg: float,
    doses: Sequence[Mapping[str, Any]],
    times_min: Sequence[float],
    *,
    age_years: float | None = None,
    routes: Mapping[str, Route] | None = None,
) -> np.ndarray:
    """Plasma concentration of a typical patient at the requested times.

    Parameters
    ----------
    model : str
        ``"clements_1981"`` (default for venous predictions) or ``"domino_1984"``.
    weight_kg : float
        Total body weight; volumes and clearances scale linearly with it.
    doses : list of dict
        ``{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}``; routes ``iv``,
        ``im``, ``intranasal``, ``esketamine``, ``sublingual``, ``oral``; ``duration_min``
        absent or 0 is a bolus and only ``iv`` takes a positive duration.
    times_min : sequence of float
        Up to 100,000 non-negative times, minutes from the start of the session.
    age_years : float, optional
        Only used to warn when outside the model's validated population.
    routes : mapping of str to Route, optional
        Replacement route parameters (clinic-edited F or Tmax), merged over the catalogue.

    Returns
    -------
    numpy.ndarray, shape (len(times_min),)
        Concentration in ng/mL.

    Raises
    ------
    RegimenError
        Naming the offending field.

    Warns
    -----
    OutsideValidatedPopulationWarning
        When weight or age is outside the model's validated range.

    References
    ----------
    .. [1] REFERENCE.md section 6: Clements & Nimmo 1981; Domino 1984; route table.

    Examples
    --------
    >>> c = predict("clements_1981", 70, [{"route": "iv", "dose_mg": 35, "duration_min": 40}], [40])
    >>> round(float(c[0]), 1)
    177.3
    """
    request = _request(model, weight_kg, doses, times_min, age_years, routes)
    scaled = request.model.scaled(request.weight_kg)
    patient = disposition(scaled.v1_l, scaled.cl_l_per_min, [scaled.q_l_per_min], [scaled.vp_l])
    bioavailability = {code: route.bioavailability for code, route in request.routes.items()}
    return concentrations_ng_per_ml(
        patient, request.doses, request.times, request.absorption_per_min(), bioavailability
    )[:, 0]


def predict_population(
    model: str,
    weight_kg: float,
    doses: Sequence[Mapping[str, Any]],
    times_min: Sequence[float],
    n: int,
    seed: int,
    *,
    age_years: float | None = None,
    routes: Mapping[str, Route] | None = None,
    variability: Variability | None = None,
) -> dict[str, np.ndarray]:
    """5th, 50th and 95th percentile plasma concentration over ``n`` virtual patients.

    Parameters
    ----------
    model, weight_kg, doses, times_min, age_years, routes
        As for :func:`predict`.
    n : int
        Number of virtual patients, 1 to 10,000, simulated in one vectorised pass; n times the
        number of output times may not exceed 10,000,000.
    seed : int
        Seed for ``numpy.random.default_rng``; the same seed gives the same result.
    variability : Variability, optional
        Between-patient CVs; defaults to the [U] values in ``data/population.yaml``.

    Returns
    -------
    dict
        ``{"p5": ndarray, "p50": ndarray, "p95": ndarray}``, each of shape (len(times_min),),
        in ng/mL.

    Raises
    ------
    RegimenError
        Naming the offending field.

    References
    ----------
    .. [1] REFERENCE.md section 6.
    """
    request = _request(model, weight_kg, doses, times_min, age_years, routes)
    size = check_population_size(n, request.times.size)
    patients = virtual_patients(
        request.model,
        request.weight_kg,
        list(request.routes.values()),
        size,
        np.random.default_rng(check_seed(seed)),
        default_variability() if variability is None else variability,
    )
    return dict(zip(PERCENTILES, _population_percentiles(request, patients, size), strict=True))


def _population_percentiles(request: _Request, patients: VirtualPatients, size: int) -> np.ndarray:
    """Percentiles at every output time, computed a block of times at a time.

    The full patients x times matrix is never held at once: each block holds at most
    ``_POPULATION_BLOCK_ELEMENTS`` concentrations.
    """
    absorption = request.absorption_per_min()
    levels = np.empty((len(PERCENTILES), request.times.size))
    step = max(1, _POPULATION_BLOCK_ELEMENTS // size)
    for first in range(0, request.times.size, step):
        block = slice(first, first + step)
        curves = concentrations_ng_per_ml(
            patients.disposition,
            request.doses,
            request.times[block],
            absorption,
            patients.bioavailability,
        )
        levels[:, block] = _percentiles(curves)
    return levels
