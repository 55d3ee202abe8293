"""Dose creep (tolerance) over a course: every escalation and the total rise.

Pure Python, no Django. A dose higher than the previous session's is an escalation; the rise is
shown in percent, rounded to the dosing policy's increment. Doses are compared per kg when every
session records one, so a weight change does not look like creep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from ketaclinic.protocols.catalog import catalog
from ketaclinic.protocols.dose_inputs import (
    DosingError,
    positive_decimal,
    round_to_increment,
    whole_number,
)


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
        session = whole_number(raw.get("session_number"), "session_number", 1)
        dose = positive_decimal(raw.get("dose_mg"), "dose_mg", "mg")
        per_kg = raw.get("dose_mg_per_kg")
        per_kg = None if per_kg is None else positive_decimal(per_kg, "dose_mg_per_kg", "mg/kg")
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
