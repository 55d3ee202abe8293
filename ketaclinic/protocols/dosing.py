"""Dose calculation for one session, and dose creep over a course.

Pure Python, no Django. Every limit comes from the protocol catalog (``protocols/data``);
this module only applies them. The software advises; a named clinician signs every dose.

Rounding
--------
Doses are ``Decimal``. A weight-based dose is ``weight_kg x dose_mg_per_kg`` rounded to the
policy increment (0.1 mg) with ``ROUND_HALF_UP``: 36.65 mg becomes 36.7 mg, the way a clinician
rounds by hand (not banker's rounding, which would give 36.6 mg). The infusion rate is computed
from the *rounded* dose, the amount actually drawn up, and rounded to 0.01 mg/min the same way.
So ``rate x minutes`` differs from the dose by at most half a rate increment per minute.

Overrides
---------
A dose per kg, fixed dose or infusion time outside the protocol's allowed range is refused
unless a non-blank ``override_reason`` is given; the result then carries a warning naming the
range and the reason, for the signing clinician and the audit trail. Limits that are not a
matter of clinical judgement (body weight 30-250 kg, weight measured in the last 30 days,
esketamine doses that are not whole devices) cannot be overridden.

References
----------
shared/domain/REFERENCE.md section 1; ketaclinic issue #3 (dosing policy).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from ketaclinic.protocols.catalog import (
    DecimalRange,
    DoseBasis,
    Protocol,
    UnknownCodeError,
    catalog,
    get_protocol,
)

__all__ = [
    "DoseCreep",
    "DoseRecord",
    "DoseResult",
    "DosingError",
    "Escalation",
    "calculate_dose",
    "calculate_esketamine_dose",
    "calculate_fixed_dose",
    "calculate_weight_based_dose",
    "dose_creep",
    "round_to_increment",
]


class DosingError(ValueError):
    """A dose cannot be calculated as asked; ``field`` names the input at fault (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DoseResult:
    """A calculated dose, ready for a clinician to check and sign."""

    protocol_code: str
    dose_mg: Decimal
    dose_mg_per_kg: Decimal | None = None
    rate_mg_per_min: Decimal | None = None
    infusion_minutes: int | None = None
    devices: int | None = None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals become strings so no precision is lost."""
        return {
            "protocol_code": self.protocol_code,
            "dose_mg": str(self.dose_mg),
            "dose_mg_per_kg": None if self.dose_mg_per_kg is None else str(self.dose_mg_per_kg),
            "rate_mg_per_min": (
                None if self.rate_mg_per_min is None else str(self.rate_mg_per_min)
            ),
            "infusion_minutes": self.infusion_minutes,
            "devices": self.devices,
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------------
# Input parsing
# --------------------------------------------------------------------------------------------


def round_to_increment(value: Decimal, increment: Decimal) -> Decimal:
    """Round ``value`` to a multiple of ``increment``, halves away from zero (ROUND_HALF_UP)."""
    steps = (value / increment).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * increment).quantize(increment)


def _rounded(value: Decimal, increment: Decimal, field: str) -> Decimal:
    """``round_to_increment``, or DosingError when the amount has more digits than Decimal's
    28-digit context holds (an overridden dose of 1e308 mg/kg is a typing error, not a dose)."""
    try:
        return round_to_increment(value, increment)
    except InvalidOperation:
        raise DosingError(field, "is too large to calculate a dose from") from None


def _positive_decimal(value: Any, field: str, unit: str) -> Decimal:
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


def _whole_number(value: Any, field: str, minimum: int) -> int:
    if value is None:
        raise DosingError(field, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise DosingError(field, f"must be a whole number, got {value!r}")
    if value < minimum:
        raise DosingError(field, f"must be at least {minimum}, got {value}")
    return value


def _reason(override_reason: Any) -> str | None:
    """The override reason, or None when absent or blank (blank never authorises anything)."""
    if override_reason is None:
        return None
    if not isinstance(override_reason, str):
        raise DosingError("override_reason", "must be text")
    cleaned = " ".join(override_reason.split())
    return cleaned or None


def _protocol(protocol_code: Any) -> Protocol:
    # A Protocol itself is used as given: the clinic's edited copy (database) rather than the
    # shipped file. Codes are looked up in the shipped catalog.
    if isinstance(protocol_code, Protocol):
        return protocol_code
    try:
        return get_protocol(protocol_code)
    except UnknownCodeError as error:
        raise DosingError("protocol", str(error)) from None


def _sources(allowed: DecimalRange) -> str:
    return "; ".join(allowed.sources)


def _check_in_range(
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
            f"({_sources(allowed)}); give an override reason to proceed",
        )
    return f"{stated} is outside the allowed range {allowed.describe(unit)}; overridden: {reason}"


def _checked_weight_kg(weight_kg: Any, weight_measured_on: Any, today: Any) -> Decimal:
    """Weight in range and recent enough; neither limit can be overridden."""
    policy = catalog().dosing_policy
    weight = _positive_decimal(weight_kg, "weight_kg", "kg")
    if weight not in policy.weight_kg:
        raise DosingError(
            "weight_kg",
            f"{weight} kg is outside {policy.weight_kg.describe('kg')} "
            f"({_sources(policy.weight_kg)}); check the weight",
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


# --------------------------------------------------------------------------------------------
# Calculations
# --------------------------------------------------------------------------------------------


def _infusion_minutes(
    protocol: Protocol, minutes: Any, reason: str | None
) -> tuple[int, list[str]]:
    assert protocol.infusion is not None
    if minutes is None:
        return protocol.infusion.default_minutes, []
    chosen = _whole_number(minutes, "infusion_minutes", 1)
    allowed = protocol.infusion.allowed_minutes
    if chosen in allowed:
        return chosen, []
    span = f"{allowed.min}-{allowed.max} min"
    if reason is None:
        raise DosingError(
            "infusion_minutes",
            f"{chosen} min is outside the protocol's allowed duration {span} "
            f"({'; '.join(allowed.sources)}); give an override reason to proceed",
        )
    return chosen, [
        f"infusion time {chosen} min is outside the allowed duration {span}; overridden: {reason}"
    ]


def calculate_weight_based_dose(
    protocol_code: str | Protocol,
    *,
    weight_kg: Decimal | int | str,
    dose_mg_per_kg: Decimal | int | str,
    infusion_minutes: int | None = None,
    weight_measured_on: date | None = None,
    today: date | None = None,
    override_reason: str | None = None,
) -> DoseResult:
    """Dose = weight x mg/kg for IV, IM, sublingual and oral protocols.

    Parameters
    ----------
    protocol_code : str
        A protocol whose dose basis is ``mg_per_kg`` or ``mg_per_kg_or_fixed_mg``.
    weight_kg, dose_mg_per_kg : Decimal, int or str
        Floats are accepted through their text form; Decimal is preferred.
    infusion_minutes : int, optional
        IV only; the protocol default (40 min) when not given.
    weight_measured_on, today : date, optional
        When the weight was measured; with ``today``, a weight too old is refused.
    override_reason : str, optional
        Allows a dose per kg or an infusion time outside the protocol's range, with a warning.

    Returns
    -------
    DoseResult
        ``dose_mg`` rounded to 0.1 mg; for IV also ``rate_mg_per_min`` rounded to 0.01.

    Examples
    --------
    >>> r = calculate_weight_based_dose("iv_racemic", weight_kg="73.4", dose_mg_per_kg="0.5")
    >>> (r.dose_mg, r.rate_mg_per_min, r.warnings)
    (Decimal('36.7'), Decimal('0.92'), ())
    """
    protocol = _protocol(protocol_code)
    if protocol.dose.basis is DoseBasis.NASAL_DEVICE:
        raise DosingError("protocol", f"{protocol.code} is dosed in whole devices, not per kg")
    if protocol.infusion is None and infusion_minutes is not None:
        raise DosingError("infusion_minutes", f"{protocol.code} is not an infusion")
    reason = _reason(override_reason)
    policy = catalog().dosing_policy
    weight = _checked_weight_kg(weight_kg, weight_measured_on, today)
    per_kg = _positive_decimal(dose_mg_per_kg, "dose_mg_per_kg", "mg/kg")
    assert protocol.dose.allowed_mg_per_kg is not None
    warnings = [
        warning
        for warning in [
            _check_in_range(
                per_kg,
                protocol.dose.allowed_mg_per_kg,
                field="dose_mg_per_kg",
                unit="mg/kg",
                what="dose",
                reason=reason,
            )
        ]
        if warning
    ]
    dose_mg = _rounded(weight * per_kg, policy.dose_increment_mg, "dose_mg_per_kg")
    if dose_mg <= 0:
        raise DosingError("dose_mg_per_kg", "the dose rounds to 0 mg")
    if protocol.infusion is None:
        return DoseResult(protocol.code, dose_mg, dose_mg_per_kg=per_kg, warnings=tuple(warnings))
    minutes, minute_warnings = _infusion_minutes(protocol, infusion_minutes, reason)
    rate = _rounded(dose_mg / minutes, policy.rate_increment_mg_per_min, "dose_mg_per_kg")
    return DoseResult(
        protocol.code,
        dose_mg,
        dose_mg_per_kg=per_kg,
        rate_mg_per_min=rate,
        infusion_minutes=minutes,
        warnings=tuple(warnings + minute_warnings),
    )


def calculate_fixed_dose(
    protocol_code: str | Protocol,
    *,
    dose_mg: Decimal | int | str,
    weight_kg: Decimal | int | str | None = None,
    weight_measured_on: date | None = None,
    today: date | None = None,
    override_reason: str | None = None,
) -> DoseResult:
    """A fixed mg dose for sublingual or oral protocols.

    The dose must lie in the protocol's fixed-dose range (25-300 mg); when a weight is given,
    its mg/kg equivalent must also lie in the mg/kg range (0.25-7 mg/kg), so a fixed dose
    cannot slip past the per-kg limit for a light patient. Both are overridable.
    """
    protocol = _protocol(protocol_code)
    if protocol.dose.basis is not DoseBasis.MG_PER_KG_OR_FIXED_MG:
        raise DosingError("protocol", f"{protocol.code} is not dosed as a fixed mg amount")
    reason = _reason(override_reason)
    assert protocol.dose.allowed_fixed_mg is not None
    assert protocol.dose.allowed_mg_per_kg is not None
    policy = catalog().dosing_policy
    amount = _positive_decimal(dose_mg, "dose_mg", "mg")
    if amount != _rounded(amount, policy.dose_increment_mg, "dose_mg"):
        raise DosingError("dose_mg", f"give the dose to {policy.dose_increment_mg} mg")
    checks = [
        _check_in_range(
            amount,
            protocol.dose.allowed_fixed_mg,
            field="dose_mg",
            unit="mg",
            what="dose",
            reason=reason,
        )
    ]
    if weight_kg is not None:
        weight = _checked_weight_kg(weight_kg, weight_measured_on, today)
        ratio = amount / weight
        checks.append(
            _check_in_range(
                # Compared exactly; printed to 2 decimals only for the message.
                ratio,
                protocol.dose.allowed_mg_per_kg,
                field="dose_mg",
                unit="mg/kg",
                what=f"{amount} mg for {weight} kg =",
                reason=reason,
                shown=str(_rounded(ratio, Decimal("0.01"), "dose_mg")),
            )
        )
    return DoseResult(
        protocol.code, amount, warnings=tuple(warning for warning in checks if warning)
    )


def calculate_esketamine_dose(
    protocol_code: str | Protocol,
    *,
    dose_mg: Decimal | int | str,
    session_number: int,
    age_years: int,
    override_reason: str | None = None,
) -> DoseResult:
    """Check an esketamine nasal dose and count its 28 mg devices.

    Refused, no override: a dose that is not one of the label doses (28, 56, 84 mg).
    Refused unless ``override_reason``: on session 1 a dose above the protocol's first-session
    maximum (TRD: 56 mg, the label says 84 mg only after starting at 56 mg; MDSI starts at
    84 mg); a dose reserved for age 65 and over (28 mg, EU SmPC) under that age.
    Warned, not refused: at 65 or over, a first dose above the 28 mg starting dose (EU SmPC).

    Examples
    --------
    >>> r = calculate_esketamine_dose("esketamine_trd", dose_mg=84, session_number=5,
    ...                               age_years=50)
    >>> (r.dose_mg, r.devices)
    (Decimal('84'), 3)
    """
    protocol = _protocol(protocol_code)
    rule = protocol.dose
    if rule.basis is not DoseBasis.NASAL_DEVICE:
        raise DosingError("protocol", f"{protocol.code} is not a nasal-device protocol")
    assert rule.device_mg is not None
    assert rule.first_session_max_mg is not None
    reason = _reason(override_reason)
    amount = _positive_decimal(dose_mg, "dose_mg", "mg")
    allowed = ", ".join(f"{dose} mg" for dose in rule.allowed_doses_mg)
    if amount not in {Decimal(dose) for dose in rule.allowed_doses_mg}:
        raise DosingError(
            "dose_mg",
            f"{amount} mg is not an esketamine dose: the label allows {allowed} "
            f"({rule.device_mg} mg per device); this cannot be overridden",
        )
    whole_mg = int(amount)
    session = _whole_number(session_number, "session_number", 1)
    age = _whole_number(age_years, "age_years", 0)
    warnings: list[str] = []
    if session == 1 and whole_mg > rule.first_session_max_mg:
        warnings.append(
            _override_or_refuse(
                "dose_mg",
                f"{whole_mg} mg on the first session: the protocol starts at "
                f"{rule.first_session_max_mg} mg ({'; '.join(rule.sources)})",
                reason,
            )
        )
    older = rule.older_adult
    if older is not None and age < older.from_age_years and whole_mg in older.reserved_doses_mg:
        warnings.append(
            _override_or_refuse(
                "dose_mg",
                f"{whole_mg} mg is the starting dose for patients aged {older.from_age_years} "
                f"or over; the patient is {age} ({'; '.join(older.sources)})",
                reason,
            )
        )
    if (
        older is not None
        and age >= older.from_age_years
        and session == 1
        and whole_mg > older.start_mg
    ):
        warnings.append(
            f"at {older.from_age_years} or over, esketamine starts at {older.start_mg} mg "
            f"and changes in {older.step_mg} mg steps ({'; '.join(older.sources)})"
        )
    return DoseResult(
        protocol.code,
        Decimal(whole_mg),
        devices=whole_mg // rule.device_mg,
        warnings=tuple(warnings),
    )


def _override_or_refuse(field: str, problem: str, reason: str | None) -> str:
    if reason is None:
        raise DosingError(field, f"{problem}; give an override reason to proceed")
    return f"{problem}; overridden: {reason}"


def calculate_dose(
    protocol_code: str | Protocol,
    *,
    weight_kg: Decimal | int | str | None = None,
    dose_mg_per_kg: Decimal | int | str | None = None,
    dose_mg: Decimal | int | str | None = None,
    infusion_minutes: int | None = None,
    session_number: int | None = None,
    age_years: int | None = None,
    weight_measured_on: date | None = None,
    today: date | None = None,
    override_reason: str | None = None,
) -> DoseResult:
    """One entry point for ``POST /api/v1/dosing/calculate``: dispatch on the dose basis.

    - ``mg_per_kg`` (IV, IM): needs ``weight_kg`` and ``dose_mg_per_kg``.
    - ``nasal_device`` (esketamine): needs ``dose_mg``, ``session_number``, ``age_years``;
      weight is not used.
    - ``mg_per_kg_or_fixed_mg`` (sublingual, oral): exactly one of ``dose_mg_per_kg`` (with
      ``weight_kg``) or ``dose_mg`` (weight optional, checked when given).

    Giving both ``dose_mg`` and ``dose_mg_per_kg``, or a dose form the protocol does not use,
    is an error rather than a silent choice: the order would be ambiguous.
    """
    protocol = _protocol(protocol_code)
    basis = protocol.dose.basis
    if dose_mg is not None and dose_mg_per_kg is not None:
        raise DosingError("dose_mg", "give either dose_mg or dose_mg_per_kg, not both")
    if basis is DoseBasis.NASAL_DEVICE:
        if dose_mg_per_kg is not None:
            raise DosingError("dose_mg_per_kg", "esketamine is dosed in mg (28/56/84)")
        if infusion_minutes is not None:
            raise DosingError("infusion_minutes", f"{protocol.code} is not an infusion")
        return calculate_esketamine_dose(
            protocol,
            dose_mg=dose_mg,  # type: ignore[arg-type]  # validated inside
            session_number=session_number,  # type: ignore[arg-type]
            age_years=age_years,  # type: ignore[arg-type]
            override_reason=override_reason,
        )
    if basis is DoseBasis.MG_PER_KG_OR_FIXED_MG and dose_mg is not None:
        return calculate_fixed_dose(
            protocol,
            dose_mg=dose_mg,
            weight_kg=weight_kg,
            weight_measured_on=weight_measured_on,
            today=today,
            override_reason=override_reason,
        )
    if dose_mg is not None:
        raise DosingError("dose_mg", f"{protocol.code} is dosed per kg: give dose_mg_per_kg")
    return calculate_weight_based_dose(
        protocol,
        weight_kg=weight_kg,  # type: ignore[arg-type]
        dose_mg_per_kg=dose_mg_per_kg,  # type: ignore[arg-type]
        infusion_minutes=infusion_minutes,
        weight_measured_on=weight_measured_on,
        today=today,
        override_reason=override_reason,
    )


# --------------------------------------------------------------------------------------------
# Dose creep (tolerance) over a course
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRecord:
    """The dose given at one session of a course."""

    session_number: int
    dose_mg: Decimal
    dose_mg_per_kg: Decimal | None = None


@dataclass(frozen=True)
class Escalation:
    """A session whose dose is higher than the previous session's."""

    session_number: int
    previous_session_number: int
    previous_dose: Decimal
    dose: Decimal
    unit: str
    rise_pct: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "session_number": self.session_number,
            "previous_session_number": self.previous_session_number,
            "previous_dose": str(self.previous_dose),
            "dose": str(self.dose),
            "unit": self.unit,
            "rise_pct": str(self.rise_pct),
        }


@dataclass(frozen=True)
class DoseCreep:
    """Escalations over a course and the overall change from first to last session.

    ``unit`` is ``"mg/kg"`` when every session records a dose per kg (a weight change then
    does not look like creep), else ``"mg"``. ``total_rise_pct`` is signed: negative when the
    dose fell; ``None`` with fewer than two sessions.
    """

    unit: str | None
    escalations: tuple[Escalation, ...]
    first_dose: Decimal | None
    last_dose: Decimal | None
    total_rise_pct: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the plan page."""
        return {
            "unit": self.unit,
            "escalations": [escalation.as_dict() for escalation in self.escalations],
            "first_dose": None if self.first_dose is None else str(self.first_dose),
            "last_dose": None if self.last_dose is None else str(self.last_dose),
            "total_rise_pct": None if self.total_rise_pct is None else str(self.total_rise_pct),
        }


def _dose_record(item: DoseRecord | Mapping[str, Any], index: int) -> DoseRecord:
    raw = item if isinstance(item, Mapping) else vars(item)
    field = f"history[{index}]"
    try:
        session = _whole_number(raw.get("session_number"), "session_number", 1)
        dose = _positive_decimal(raw.get("dose_mg"), "dose_mg", "mg")
        per_kg = raw.get("dose_mg_per_kg")
        per_kg = None if per_kg is None else _positive_decimal(per_kg, "dose_mg_per_kg", "mg/kg")
    except DosingError as error:
        raise DosingError(f"{field}.{error.field}", error.message) from None
    return DoseRecord(session, dose, per_kg)


def _percent_change(before: Decimal, after: Decimal) -> Decimal:
    increment = catalog().dosing_policy.percent_increment
    return round_to_increment((after - before) / before * 100, increment)


def dose_creep(history: Iterable[DoseRecord | Mapping[str, Any]]) -> DoseCreep:
    """Flag every escalation over a course and the total rise from first to last session.

    Parameters
    ----------
    history : iterable of DoseRecord or mappings with the same keys
        Doses given, in any order; session numbers must be unique.

    Returns
    -------
    DoseCreep
        Escalations in session order, each with its rise in percent (0.1 precision,
        ROUND_HALF_UP), and the signed total change from the first to the last session.
    """
    if isinstance(history, str | bytes | Mapping):
        raise DosingError("history", "must be a list of session doses")
    records = sorted(
        (_dose_record(item, i) for i, item in enumerate(history)),
        key=lambda record: record.session_number,
    )
    numbers = [record.session_number for record in records]
    if len(set(numbers)) != len(numbers):
        raise DosingError("history", "session numbers must be unique")
    if not records:
        return DoseCreep(None, (), None, None, None)
    per_kg = all(record.dose_mg_per_kg is not None for record in records)
    unit = "mg/kg" if per_kg else "mg"
    doses = [
        (record.dose_mg_per_kg if per_kg else record.dose_mg, record.session_number)
        for record in records
    ]
    escalations = tuple(
        Escalation(
            session_number=number,
            previous_session_number=previous_number,
            previous_dose=previous,
            dose=dose,
            unit=unit,
            rise_pct=_percent_change(previous, dose),
        )
        for (previous, previous_number), (dose, number) in pairwise(doses)
        if dose > previous  # type: ignore[operator]
    )
    first, last = doses[0][0], doses[-1][0]
    assert first is not None
    assert last is not None
    return DoseCreep(
        unit=unit,
        escalations=escalations,
        first_dose=first,
        last_dose=last,
        total_rise_pct=None if len(doses) < 2 else _percent_change(first, last),
    )
