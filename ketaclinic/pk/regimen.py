"""Dosing regimens: parse and validate the dose dicts that callers send to the PK engine.

A regimen is a list of dose dicts such as
``{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}``. ``start_min`` is minutes
from the start of the session (default 0). ``duration_min`` absent or 0 means a bolus; only the
``iv`` route takes a positive duration (an infusion at constant rate ``dose_mg / duration_min``).
A rate change is written as consecutive infusions.

Every rejection raises :class:`RegimenError`, which names the offending field (``doses[2].route``,
``weight_kg``, ``times_min``, ``n``...) and the rule broken, so the HTTP layer can answer 422.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real
from typing import Any

import numpy as np

MAX_TIME_POINTS = 100_000
MAX_DOSES = 1_000
MAX_PATIENTS = 10_000
MAX_POPULATION_POINTS = 10_000_000
INFUSION_ROUTE = "iv"
DOSE_FIELDS = ("route", "dose_mg", "start_min", "duration_min")


class RegimenError(ValueError):
    """A PK request broke an input rule; ``field`` names the input, ``message`` the rule.

    Parameters
    ----------
    field : str
        Dotted path of the offending input, e.g. ``"doses[0].dose_mg"`` or ``"weight_kg"``.
    message : str
        The rule that was broken, in words a clinician can act on.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Dose:
    """One validated dose; times in minutes from the start of the session."""

    route: str
    dose_mg: float
    start_min: float = 0.0
    duration_min: float = 0.0

    @property
    def is_infusion(self) -> bool:
        return self.duration_min > 0


def finite_number(value: Any, field: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number.

    ``bool`` is refused although Python counts it as an int: ``True`` mg is a bug, not a dose.
    ``Decimal`` is accepted because counted doses are stored as Decimal (DESIGN.md).
    """
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        raise RegimenError(field, "must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise RegimenError(field, "must be a finite number")
    return number


def check_weight(weight_kg: Any) -> float:
    """Return the body weight in kg, which must be a positive finite number."""
    weight = finite_number(weight_kg, "weight_kg")
    if weight <= 0:
        raise RegimenError("weight_kg", "must be greater than 0 kg")
    return weight


def check_times(times_min: Any) -> np.ndarray:
    """Return the output times as a 1-D float array of at most ``MAX_TIME_POINTS`` points.

    Times are minutes from the start of the session, so they must be finite and not negative.
    They need not be sorted.
    """
    if isinstance(times_min, str | bytes) or not hasattr(times_min, "__len__"):
        raise RegimenError("times_min", "must be a list of times in minutes")
    if len(times_min) > MAX_TIME_POINTS:
        raise RegimenError("times_min", f"must have at most {MAX_TIME_POINTS:,} time points")
    try:
        times = np.asarray(times_min, dtype=float)
    except (TypeError, ValueError) as error:
        raise RegimenError("times_min", "must be a list of numbers") from error
    if times.ndim != 1:
        raise RegimenError("times_min", "must be a flat list of numbers")
    if not np.all(np.isfinite(times)):
        raise RegimenError("times_min", "must contain only finite numbers")
    if np.any(times < 0):
        raise RegimenError("times_min", "must not be negative (minutes from the session start)")
    return times


def check_population_size(n: Any, time_points: int = 1) -> int:
    """Return the number of virtual patients, an integer from 1 to ``MAX_PATIENTS``.

    ``n`` x ``time_points`` is also capped at ``MAX_POPULATION_POINTS`` so that one request
    cannot ask for minutes of computation (10,000 patients x 100,000 times would be 10^9
    concentrations).
    """
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise RegimenError("n", "must be a whole number of virtual patients")
    if not 1 <= n <= MAX_PATIENTS:
        raise RegimenError("n", f"must be between 1 and {MAX_PATIENTS:,} virtual patients")
    if n * time_points > MAX_POPULATION_POINTS:
        raise RegimenError(
            "n",
            f"n x number of times must be at most {MAX_POPULATION_POINTS:,}; "
            "use fewer virtual patients or fewer time points",
        )
    return int(n)


def check_seed(seed: Any) -> int:
    """Return the random seed, a non-negative integer (``numpy.random.default_rng`` rule)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise RegimenError("seed", "must be a non-negative whole number")
    return int(seed)


def parse_doses(doses: Any, route_codes: Collection[str]) -> tuple[Dose, ...]:
    """Validate a list of dose dicts and return them as :class:`Dose` objects.

    Parameters
    ----------
    doses : sequence of mapping
        Dose dicts with keys ``route``, ``dose_mg``, optional ``start_min`` (default 0) and
        optional ``duration_min`` (default 0, bolus). Unknown keys are refused so that a typo
        such as ``"dose"`` cannot silently become a missing dose.
    route_codes : collection of str
        Route codes the caller can model.

    Returns
    -------
    tuple of Dose
        In the order given. An empty list is a valid regimen (no drug: zero concentration).

    Raises
    ------
    RegimenError
        With ``field`` such as ``"doses[1].duration_min"``.
    """
    if isinstance(doses, str | bytes | Mapping) or not isinstance(doses, Sequence):
        raise RegimenError("doses", "must be a list of dose objects")
    if len(doses) > MAX_DOSES:
        raise RegimenError("doses", f"must have at most {MAX_DOSES:,} doses")
    return tuple(_parse_dose(entry, f"doses[{i}]", route_codes) for i, entry in enumerate(doses))


def _parse_dose(entry: Any, where: str, route_codes: Collection[str]) -> Dose:
    if not isinstance(entry, Mapping):
        raise RegimenError(where, "must be an object with route, dose_mg and start_min")
    for key in entry:
        if key not in DOSE_FIELDS:
            raise RegimenError(
                f"{where}.{key}", f"unknown field; allowed: {', '.join(DOSE_FIELDS)}"
            )
    route = _parse_route(entry.get("route"), f"{where}.route", route_codes)
    dose_mg = _parse_amount(entry.get("dose_mg"), f"{where}.dose_mg")
    start_min = _parse_start(entry.get("start_min", 0), f"{where}.start_min")
    duration_min = _parse_duration(entry.get("duration_min"), route, f"{where}.duration_min")
    return Dose(route=route, dose_mg=dose_mg, start_min=start_min, duration_min=duration_min)


def _parse_route(route: Any, field: str, route_codes: Collection[str]) -> str:
    if route is None:
        raise RegimenError(field, "is required")
    if not isinstance(route, str) or route not in route_codes:
        raise RegimenError(
            field, f"unknown route {route!r}; expected one of {', '.join(route_codes)}"
        )
    return str(route)


def _parse_amount(dose_mg: Any, field: str) -> float:
    if dose_mg is None:
        raise RegimenError(field, "is required")
    amount = finite_number(dose_mg, field)
    if amount <= 0:
        raise RegimenError(field, "must be greater than 0 mg")
    return amount


def _parse_start(start_min: Any, field: str) -> float:
    start = finite_number(start_min, field)
    if start < 0:
        raise RegimenError(field, "must not be negative (minutes from the session start)")
    return start


def _parse_duration(duration_min: Any, route: str, field: str) -> float:
    if duration_min is None:
        return 0.0
    duration = finite_number(duration_min, field)
    if duration < 0:
        raise RegimenError(field, "must not be negative")
    if duration > 0 and route != INFUSION_ROUTE:
        raise RegimenError(
            field,
            f"only the {INFUSION_ROUTE} route takes a duration; {route} doses are given at once",
        )
    return duration
