"""The database's rules for stored readings: the plausibility limits, built from the data
file, and the indexes that find each measurement's newest value.

``data/plausibility_limits.yaml`` is the one place the limits are written. The
``CheckConstraint`` rules on stored readings are made from it here, so the migration that
created them holds the same numbers: change the file and ``makemigrations --check`` fails
until a migration follows (the limits in the database then move with the data).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from .vitals import DEFAULT_LIMITS, PlausibilityLimits

#: The constraint of each measurement, by the name the first migration gave it.
CONSTRAINT_NAMES = {
    "systolic_mmhg": "vitals_systolic_plausible",
    "diastolic_mmhg": "vitals_diastolic_plausible",
    "heart_rate_bpm": "vitals_heart_rate_plausible",
    "spo2_pct": "vitals_spo2_plausible",
    "resp_rate_per_min": "vitals_resp_rate_plausible",
    "temperature_c": "vitals_temperature_plausible",
}


def _number(value: Decimal) -> int | Decimal:
    # Whole bounds stay ints, as the migration wrote them.
    return int(value) if value == value.to_integral() else value


def range_constraint(field: str, limits: PlausibilityLimits) -> models.CheckConstraint:
    """``field`` empty or inside its limits (inclusive)."""
    limit = limits.for_field(field)
    bounds = (_number(limit.low), _number(limit.high))
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__range": bounds}),
        name=CONSTRAINT_NAMES[field],
    )


def diastolic_below_systolic() -> models.CheckConstraint:
    """When both pressures are given, the diastolic is below the systolic."""
    return models.CheckConstraint(
        condition=Q(systolic_mmhg__isnull=True)
        | Q(diastolic_mmhg__isnull=True)
        | Q(diastolic_mmhg__lt=F("systolic_mmhg")),
        name="vitals_diastolic_below_systolic",
    )


def plausibility_constraints(
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> list[models.CheckConstraint]:
    """Every limit of the data as a constraint, in the data's order (the diastolic-below-
    systolic rule after the diastolic limit, when the data asks for it)."""
    constraints = []
    for limit in limits.limits:
        constraints.append(range_constraint(limit.field, limits))
        if limit.field == "diastolic_mmhg" and limits.diastolic_below_systolic:
            constraints.append(diastolic_below_systolic())
    return constraints


def newest_value_indexes() -> list[models.Index]:
    """One partial index per measurement, on the readings that measured it, by session and
    time: the newest blood pressure or temperature of a session is one index step however
    many readings (a monitor at 1 Hz) came after it, or if it was never taken."""
    return [
        models.Index(
            fields=["session", "at"],
            condition=Q(**{f"{field}__isnull": False}),
            name=name.replace("_plausible", "_newest"),
        )
        for field, name in CONSTRAINT_NAMES.items()
    ]
