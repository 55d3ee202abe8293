"""Checking dose inputs against the dosing policy: numbers, weights, ranges and overrides.

Pure Python, no Django. Every input a dose calculation takes is parsed here into a ``Decimal``
or a whole number, or refused with a :class:`DosingError` naming the field; every range check
either passes, warns (overridden, with the reason) or refuses (naming the range's sources).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ketaclinic.protocols.catalog import (
    DecimalRange,
    Protocol,
    UnknownCodeError,
    catalog,
    get_protocol,
)


class DosingError(ValueError):
    """A dose cannot be calculated as asked; ``field`` names the input at fault (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def round_to_increment(value: Decimal, increment: Decimal) -> Decimal:
    """Round ``value`` to a multiple of ``increment``, halves away from zero (ROUND_HALF_UP)."""
    steps = (value / increment).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * increment).quantize(increment)


def rounded(value: Decimal, increment: Decimal, field: str) -> Decimal:
    """``round_to_increment``, or DosingError when the amount has more digits than Decimal's
    28-digit context holds (an overridden dose of 1e308 mg/kg is a typing error, not a dose)."""
    try:
        return round_to_increment(value, increment)
    except InvalidOperation:
        raise DosingError(field, "is too large to calculate a dose from") from None


def positive_decimal(value: Any, field: str, unit: str) -> Decimal:
    if value is None:
        raise DosingError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise DosingError(field, f"must be a number in {unit}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise DosingError(field, f"must be a finite number in {unit}")
    try:
        # str() first so a float 0.1 means 0.1, not 0.1000000000000000055...
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DosingError(field, f"must be a number in {unit}, got {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise DosingError(field, f"must be a positive number in {unit}, got {value!r}")
    return number


def whole_number(value: Any, field: str, minimum: int) -> int:
    if value is None:
        raise DosingError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise DosingError(field, f"must be a whole number, got {value!r}")
    if value < minimum:
        raise DosingError(field, f"must be at least {minimum}, got {value}")
    return value


def reason_given(override_reason: Any) -> str | None:
    """The override reason, or None when absent or blank (blank never authorises anything)."""
    if override_reason is None:
        return None
    if not isinstance(override_reason, str):
        raise DosingError("override_reason", "must be text")
    cleaned = " ".join(override_reason.split())
    return cleaned or None


def protocol_for(protocol_code: Any) -> Protocol:
    # A Protocol itself is used as given: the clinic's edited copy (database) rather than the
    # shipped file. Codes are looked up in the shipped catalog.
    if isinstance(protocol_code, Protocol):
        return protocol_code
    try:
        return get_protocol(protocol_code)
    except UnknownCodeError as error:
        raise DosingError("protocol", str(error)) from None


def sources_of(allowed: DecimalRange) -> str:
    return "; ".join(allowed.sources)


def check_in_range(
    value: Decimal,
    allowed: DecimalRange,
    *,
    field: str,
    unit: str,
    what: str,
    reason: str | None,
    shown: str | None = None,
) -> str | None:
    """None when ``value`` is in range; a warning when overridden; else DosingError.

    ``shown`` replaces the value in the message (e.g. a ratio printed to 2 decimals).
    """
    if value in allowed:
        return None
    stated = f"{what} {shown or value} {unit}"
    if reason is None:
        raise DosingError(
            field,
            f"{stated} is outside the protocol's allowed range {allowed.describe(unit)} "
            f"({sources_of(allowed)}); give an override reason to proceed",
        )
    return f"{stated} is outside the allowed range {allowed.describe(unit)}; overridden: {reason}"


def checked_weight_kg(weight_kg: Any, weight_measured_on: Any, today: Any) -> Decimal:
    """Weight in range and recent enough; neither limit can be overridden."""
    policy = catalog().dosing_policy
    weight = positive_decimal(weight_kg, "weight_kg", "kg")
    if weight not in policy.weight_kg:
        raise DosingError(
            "weight_kg",
            f"{weight} kg is outside {policy.weight_kg.describe('kg')} "
            f"({sources_of(policy.weight_kg)}); check the weight",
        )
    if weight_measured_on is None:
        return weight
    for name, value in (("weight_measured_on", weight_measured_on), ("today", today)):
        # datetime is a date subclass, but mixing them makes the day count ambiguous.
        if value is None:
            raise DosingError(name, "give today's date to check how old the weight is")
        if isinstance(value, datetime) or not isinstance(value, date):
            raise DosingError(name, f"must be a date, got {value!r}")
    age_days = (today - weight_measured_on).days
    if age_days < 0:
        raise DosingError("weight_measured_on", "is after today")
    if age_days > policy.weight_max_age_days:
        raise DosingError(
            "weight_measured_on",
            f"the weight is {age_days} days old; weigh the patient again (a weight older than "
            f"{policy.weight_max_age_days} days is not used: "
            f"{'; '.join(policy.weight_max_age_sources)})",
        )
    return weight


def override_or_refuse(field: str, problem: str, reason: str | None) -> str:
    if reason is None:
        raise DosingError(field, f"{problem}; give an override reason to proceed")
    return f"{problem}; overridden: {reason}"
