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

Input checks live in :mod:`.dose_inputs` and dose creep in :mod:`.creep`; this module is the
dosing face callers import, and re-exports both.

References
----------
shared/domain/REFERENCE.md section 1; ketaclinic issue #3 (dosing policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ketaclinic.protocols.catalog import DoseBasis, DoseRule, Protocol, catalog
from ketaclinic.protocols.creep import DoseCreep, DoseRecord, Escalation, dose_creep
from ketaclinic.protocols.dose_inputs import (
    DosingError,
    check_in_range,
    checked_weight_kg,
    override_or_refuse,
    positive_decimal,
    protocol_for,
    reason_given,
    round_to_increment,
    rounded,
    whole_number,
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
# Calculations
# --------------------------------------------------------------------------------------------


def _infusion_minutes(
    protocol: Protocol, minutes: Any, reason: str | None
) -> tuple[int, list[str]]:
    assert protocol.infusion is not None
    if minutes is None:
        return protocol.infusion.default_minutes, []
    chosen = whole_number(minutes, "infusion_minutes", 1)
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
    protocol = _per_kg_protocol(protocol_code, infusion_minutes)
    reason = reason_given(override_reason)
    weight = checked_weight_kg(weight_kg, weight_measured_on, today)
    per_kg = positive_decimal(dose_mg_per_kg, "dose_mg_per_kg", "mg/kg")
    warnings = _per_kg_warnings(protocol, per_kg, reason)
    dose_mg = rounded(weight * per_kg, catalog().dosing_policy.dose_increment_mg, "dose_mg_per_kg")
    if dose_mg <= 0:
        raise DosingError("dose_mg_per_kg", "the dose rounds to 0 mg")
    if protocol.infusion is None:
        return DoseResult(protocol.code, dose_mg, dose_mg_per_kg=per_kg, warnings=tuple(warnings))
    minutes, minute_warnings = _infusion_minutes(protocol, infusion_minutes, reason)
    return DoseResult(
        protocol.code,
        dose_mg,
        dose_mg_per_kg=per_kg,
        rate_mg_per_min=_rate_mg_per_min(dose_mg, minutes),
        infusion_minutes=minutes,
        warnings=tuple(warnings + minute_warnings),
    )


def _per_kg_protocol(protocol_code: str | Protocol, infusion_minutes: Any) -> Protocol:
    """The protocol, if it is dosed per kg and takes an infusion time only when it infuses."""
    protocol = protocol_for(protocol_code)
    if protocol.dose.basis is DoseBasis.NASAL_DEVICE:
        raise DosingError("protocol", f"{protocol.name} is dosed in whole devices, not per kg")
    if protocol.infusion is None and infusion_minutes is not None:
        raise DosingError("infusion_minutes", f"{protocol.name} is not an infusion")
    return protocol


def _per_kg_warnings(protocol: Protocol, per_kg: Decimal, reason: str | None) -> list[str]:
    """A dose per kg outside the allowed range: refused, or a warning when overridden."""
    assert protocol.dose.allowed_mg_per_kg is not None
    warning = check_in_range(
        per_kg,
        protocol.dose.allowed_mg_per_kg,
        field="dose_mg_per_kg",
        unit="mg/kg",
        what="dose",
        reason=reason,
    )
    return [warning] if warning else []


def _rate_mg_per_min(dose_mg: Decimal, minutes: int) -> Decimal:
    """The rate that gives the drawn-up (rounded) dose over ``minutes``, rounded to policy."""
    increment = catalog().dosing_policy.rate_increment_mg_per_min
    return rounded(dose_mg / minutes, increment, "dose_mg_per_kg")


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
    protocol = protocol_for(protocol_code)
    if protocol.dose.basis is not DoseBasis.MG_PER_KG_OR_FIXED_MG:
        raise DosingError("protocol", f"{protocol.name} is not dosed as a fixed mg amount")
    reason = reason_given(override_reason)
    assert protocol.dose.allowed_fixed_mg is not None
    assert protocol.dose.allowed_mg_per_kg is not None
    policy = catalog().dosing_policy
    amount = positive_decimal(dose_mg, "dose_mg", "mg")
    if amount != rounded(amount, policy.dose_increment_mg, "dose_mg"):
        raise DosingError("dose_mg", f"give the dose to {policy.dose_increment_mg} mg")
    checks = [
        check_in_range(
            amount,
            protocol.dose.allowed_fixed_mg,
            field="dose_mg",
            unit="mg",
            what="dose",
            reason=reason,
        )
    ]
    if weight_kg is not None:
        weight = checked_weight_kg(weight_kg, weight_measured_on, today)
        ratio = amount / weight
        checks.append(
            check_in_range(
                # Compared exactly; printed to 2 decimals only for the message.
                ratio,
                protocol.dose.allowed_mg_per_kg,
                field="dose_mg",
                unit="mg/kg",
                what=f"{amount} mg for {weight} kg =",
                reason=reason,
                shown=str(rounded(ratio, Decimal("0.01"), "dose_mg")),
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
    protocol = protocol_for(protocol_code)
    rule = protocol.dose
    if rule.basis is not DoseBasis.NASAL_DEVICE:
        raise DosingError("protocol", f"{protocol.name} is not a nasal-device protocol")
    assert rule.device_mg is not None
    reason = reason_given(override_reason)
    whole_mg = _label_dose_mg(rule, dose_mg)
    session = whole_number(session_number, "session_number", 1)
    age = whole_number(age_years, "age_years", 0)
    return DoseResult(
        protocol.code,
        Decimal(whole_mg),
        devices=whole_mg // rule.device_mg,
        warnings=tuple(_esketamine_warnings(rule, whole_mg, session, age, reason)),
    )


def _label_dose_mg(rule: DoseRule, dose_mg: Any) -> int:
    """The dose in whole mg if it is one of the label doses; no override can change that."""
    amount = positive_decimal(dose_mg, "dose_mg", "mg")
    if amount not in {Decimal(dose) for dose in rule.allowed_doses_mg}:
        allowed = ", ".join(f"{dose} mg" for dose in rule.allowed_doses_mg)
        raise DosingError(
            "dose_mg",
            f"{amount} mg is not an esketamine dose: the label allows {allowed} "
            f"({rule.device_mg} mg per device); this cannot be overridden",
        )
    return int(amount)


def _esketamine_warnings(
    rule: DoseRule, whole_mg: int, session: int, age: int, reason: str | None
) -> list[str]:
    """First-session maximum and the older-adult rule: overridden with a reason, or refused."""
    assert rule.first_session_max_mg is not None
    warnings: list[str] = []
    if session == 1 and whole_mg > rule.first_session_max_mg:
        warnings.append(
            override_or_refuse(
                "dose_mg",
                f"{whole_mg} mg on the first session: the protocol starts at "
                f"{rule.first_session_max_mg} mg ({'; '.join(rule.sources)})",
                reason,
            )
        )
    older = rule.older_adult
    if older is None:
        return warnings
    if age < older.from_age_years and whole_mg in older.reserved_doses_mg:
        warnings.append(
            override_or_refuse(
                "dose_mg",
                f"{whole_mg} mg is the starting dose for patients aged {older.from_age_years} "
                f"or over; the patient is {age} ({'; '.join(older.sources)})",
                reason,
            )
        )
    if age >= older.from_age_years and session == 1 and whole_mg > older.start_mg:
        warnings.append(
            f"at {older.from_age_years} or over, esketamine starts at {older.start_mg} mg "
            f"and changes in {older.step_mg} mg steps ({'; '.join(older.sources)})"
        )
    return warnings


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
    protocol = protocol_for(protocol_code)
    basis = protocol.dose.basis
    if dose_mg is not None and dose_mg_per_kg is not None:
        raise DosingError("dose_mg", "give either dose_mg or dose_mg_per_kg, not both")
    if basis is DoseBasis.NASAL_DEVICE:
        if dose_mg_per_kg is not None:
            raise DosingError("dose_mg_per_kg", "esketamine is dosed in mg (28/56/84)")
        if infusion_minutes is not None:
            raise DosingError("infusion_minutes", f"{protocol.name} is not an infusion")
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
        raise DosingError("dose_mg", f"{protocol.name} is dosed per kg: give dose_mg_per_kg")
    return calculate_weight_based_dose(
        protocol,
        weight_kg=weight_kg,  # type: ignore[arg-type]
        dose_mg_per_kg=dose_mg_per_kg,  # type: ignore[arg-type]
        infusion_minutes=infusion_minutes,
        weight_measured_on=weight_measured_on,
        today=today,
        override_reason=override_reason,
    )
