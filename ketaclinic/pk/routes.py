"""Routes of administration: bioavailability and absorption, built from ``data/routes.yaml``.

IV doses enter the central compartment directly. Every other route (``im``, ``intranasal``,
``esketamine``, ``sublingual``, ``oral``) enters through first-order absorption from a depot,
with the route's bioavailability F and an absorption rate constant ka. No ka is published in
REFERENCE.md, only a time to peak (Tmax), so ka is solved for: the ka whose single-dose plasma
curve peaks at the route's ``tmax_target_min`` under the compartment model in use. Because the
model's disposition shapes the curve, the same route gets a different ka per model (for IM,
about 0.18/min under Clements 1981 and about 0.021/min under Domino 1984).

Esketamine uses the racemic model with esketamine's F (0.48); the result is approximate and the
route is flagged ``approximate``.

References
----------
.. [1] ../shared/domain/REFERENCE.md section 6, "Bioavailability and time to peak by route".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from scipy.optimize import brentq

from ketaclinic.pk.data import load_data
from ketaclinic.pk.models import CompartmentModel
from ketaclinic.pk.solution import (
    Disposition,
    absorbed_slope_sign,
    disposition,
    unit_absorption_response,
)

# Bracket for ka: far slower and far faster than any ketamine absorption, so the peak-time
# equation changes sign inside it for any Tmax from seconds to days.
_KA_BRACKET_PER_MIN = (1e-7, 1e3)


@dataclass(frozen=True)
class Route:
    """One route of administration and the source of its numbers.

    Attributes
    ----------
    code : str
        API code: ``iv``, ``im``, ``intranasal``, ``esketamine``, ``sublingual``, ``oral``.
    bioavailability : float
        Fraction F of the dose reaching the circulation (the default point of the range).
    bioavailability_range : tuple of float
        Range reported in REFERENCE.md.
    tmax_target_min : float or None
        Single-dose time to peak that ka is solved for; None for IV (peak at end of infusion).
    """

    code: str
    name: str
    bioavailability: float
    bioavailability_range: tuple[float, float]
    bioavailability_status: str
    tmax_target_min: float | None
    tmax_min_range: tuple[float, float] | None
    source: str
    note: str = ""
    approximate: bool = False

    @property
    def is_extravascular(self) -> bool:
        return self.tmax_target_min is not None


def _build(code: str, entry: dict[str, Any]) -> Route:
    tmax_range = entry.get("tmax_min_range")
    tmax_target = entry.get("tmax_target_min")
    return Route(
        code=code,
        name=entry["name"],
        bioavailability=float(entry["bioavailability"]),
        bioavailability_range=tuple(entry["bioavailability_range"]),
        bioavailability_status=entry["bioavailability_status"],
        tmax_target_min=None if tmax_target is None else float(tmax_target),
        tmax_min_range=None if tmax_range is None else tuple(tmax_range),
        source=entry["source"],
        note=entry.get("note", ""),
        approximate=bool(entry.get("approximate", False)),
    )


@cache
def route_catalog() -> dict[str, Route]:
    """All routes by code, read once from ``data/routes.yaml``."""
    return {code: _build(code, entry) for code, entry in load_data("routes")["routes"].items()}


ROUTE_CODES: tuple[str, ...] = tuple(route_catalog())


def unit_disposition(model: CompartmentModel) -> Disposition:
    """The model's disposition at 1 kg: its shape (rates and fractions) holds for any weight."""
    scaled = model.scaled(1.0)
    return disposition(scaled.v1_l, scaled.cl_l_per_min, [scaled.q_l_per_min], [scaled.vp_l])


@lru_cache(maxsize=256)
def absorption_rate_per_min(model: CompartmentModel, tmax_min: float) -> float:
    """First-order absorption rate constant ka that puts the plasma peak at ``tmax_min``.

    Parameters
    ----------
    model : CompartmentModel
        Disposition model in use; weight does not matter (it scales volumes only).
    tmax_min : float
        Target time of the single-dose peak, minutes after the dose.

    Returns
    -------
    float
        ka per minute, solved with Brent's method on dC/dt(tmax) = 0; cached per model and Tmax.

    Raises
    ------
    ValueError
        If no ka in the search bracket gives that peak, or the root found is not the global
        maximum of the curve (it would not be "the" Tmax).

    References
    ----------
    .. [1] REFERENCE.md section 6, Tmax by route.
    """
    shape = unit_disposition(model)
    low, high = _KA_BRACKET_PER_MIN
    if (
        not absorbed_slope_sign(shape, low, tmax_min)
        > 0
        > absorbed_slope_sign(shape, high, tmax_min)
    ):
        raise ValueError(f"no absorption rate gives a plasma peak at {tmax_min:g} min")
    ka = brentq(
        lambda k: absorbed_slope_sign(shape, k, tmax_min), low, high, xtol=1e-14, rtol=1e-13
    )
    _check_global_peak(shape, float(ka), tmax_min)
    return float(ka)


def _check_global_peak(shape: Disposition, ka: float, tmax_min: float) -> None:
    # dC/dt = 0 also holds at a local maximum; the target must be the curve's highest point.
    horizon = 50.0 * tmax_min + 10.0 / float(np.min(shape.rates_per_min))
    grid = np.append(np.linspace(0.0, horizon, 20_001), tmax_min)
    curve = unit_absorption_response(shape, ka, grid)[:, 0]
    if np.max(curve) > curve[-1] * (1 + 1e-9):
        raise ValueError(f"a plasma peak at {tmax_min:g} min would not be the highest point")
