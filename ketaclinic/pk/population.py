"""Virtual patients: inter-individual variability around a published model.

Each virtual patient's elimination clearance, each compartment volume, and each extravascular
route's bioavailability is the typical value times exp(eta), with independent
eta ~ Normal(0, omega^2) and omega^2 = ln(1 + CV^2), so the parameter is log-normal with median
equal to the typical value and coefficient of variation CV. Intercompartmental clearances and
absorption rate constants do not vary. Drawn bioavailability is capped at 1.

All N patients are drawn in one call to the generator and solved in one vectorised pass. The
draw layout is fixed (clearance, V1, V2, V3, then one column per route in catalogue order)
whatever the model or regimen, so a given seed gives the same patients for every regimen.

The default CVs in ``data/population.yaml`` are [U] placeholders: REFERENCE.md gives no
between-patient variability (the Kamp 2020 intervals are confidence intervals of the typical
values, not between-patient spread). Pass a :class:`Variability` to override them.

References
----------
.. [1] ../shared/domain/REFERENCE.md section 6 (Kamp 2020 population values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ketaclinic.pk.data import load_data
from ketaclinic.pk.models import CompartmentModel
from ketaclinic.pk.routes import Route
from ketaclinic.pk.solution import Disposition, disposition

# Clearance, V1 and up to two peripheral volumes: always drawn, so the layout never shifts.
_DISPOSITION_DRAWS = 4


@dataclass(frozen=True)
class Variability:
    """Between-patient coefficients of variation (fractions, e.g. 0.3 = 30%).

    Attributes
    ----------
    cv_clearance : float
        CV of the elimination clearance.
    cv_volume : float
        CV of each compartment volume (drawn independently per compartment).
    cv_bioavailability : float
        CV of F for every extravascular route (drawn independently per route).
    source : str
        Basis of the numbers, shown to clinicians next to population predictions.
    """

    cv_clearance: float
    cv_volume: float
    cv_bioavailability: float
    source: str

    def __post_init__(self) -> None:
        for name in ("cv_clearance", "cv_volume", "cv_bioavailability"):
            value = getattr(self, name)
            if not 0 <= value < 10:
                raise ValueError(f"{name} must be a fraction between 0 and 10, got {value!r}")


@cache
def default_variability() -> Variability:
    """The clinic-editable [U] defaults from ``data/population.yaml``."""
    entry = load_data("population")["variability"]
    return Variability(
        cv_clearance=float(entry["cv_clearance"]),
        cv_volume=float(entry["cv_volume"]),
        cv_bioavailability=float(entry["cv_bioavailability"]),
        source=entry["source"],
    )


@dataclass(frozen=True)
class VirtualPatients:
    """N patients' dispositions and per-route bioavailability arrays of shape (N,)."""

    disposition: Disposition
    bioavailability: dict[str, np.ndarray]


def log_normal_factors(
    rng: np.random.Generator, shape: tuple[int, int], cv: np.ndarray
) -> np.ndarray:
    """exp(eta) with eta ~ N(0, ln(1 + CV^2)) per column: median 1, coefficient of variation CV."""
    omega = np.sqrt(np.log1p(np.square(cv)))
    return np.exp(rng.standard_normal(shape) * omega)


def virtual_patients(
    model: CompartmentModel,
    weight_kg: float,
    routes: Sequence[Route],
    n: int,
    rng: np.random.Generator,
    variability: Variability,
) -> VirtualPatients:
    """Draw ``n`` patients of ``weight_kg`` around ``model``; one draw for all of them.

    Parameters
    ----------
    model : CompartmentModel
    weight_kg : float
    routes : sequence of Route
        Every route in the catalogue, in catalogue order (fixes the random-draw layout).
    n : int
    rng : numpy.random.Generator
    variability : Variability

    Returns
    -------
    VirtualPatients
    """
    cvs = np.array(
        [variability.cv_clearance]
        + [variability.cv_volume] * (_DISPOSITION_DRAWS - 1)
        + [variability.cv_bioavailability] * len(routes)
    )
    factors = log_normal_factors(rng, (n, cvs.size), cvs)
    typical = model.scaled(weight_kg)
    peripherals = len(typical.vp_l)
    v1 = typical.v1_l * factors[:, 1]
    cl = typical.cl_l_per_min * factors[:, 0]
    vp = np.asarray(typical.vp_l) * factors[:, 2 : 2 + peripherals]
    q = np.broadcast_to(np.asarray(typical.q_l_per_min), vp.shape)
    bioavailability = {
        route.code: np.minimum(route.bioavailability * factors[:, _DISPOSITION_DRAWS + i], 1.0)
        for i, route in enumerate(routes)
    }
    return VirtualPatients(disposition(v1, cl, q, vp), bioavailability)
