"""Coverage rules over plain values (no database): what a coverage entry must say.

Self-pay carries no payer details; an insured coverage names the payer, the member id and
who the subscriber is to the patient. Dates run from ``effective_from`` to ``effective_to``
(open-ended when empty), and never backwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CoverageInput:
    self_pay: bool
    payer_name: str
    member_id: str
    group_number: str
    subscriber_relationship: str
    network: str
    effective_from: dt.date
    effective_to: dt.date | None


def coverage_problems(entry: CoverageInput) -> dict[str, str]:
    """Field → the rule it breaks; empty when the entry may be stored."""
    problems: dict[str, str] = {}
    if entry.effective_to is not None and entry.effective_to < entry.effective_from:
        problems["effective_to"] = "The coverage cannot end before it starts."
    if entry.self_pay:
        for field in ("payer_name", "member_id", "group_number", "subscriber_relationship"):
            if getattr(entry, field).strip():
                problems[field] = "Self-pay has no insurer details: leave this empty."
        return problems
    if not entry.payer_name.strip():
        problems["payer_name"] = "Name the insurer, or mark the coverage as self-pay."
    if not entry.member_id.strip():
        problems["member_id"] = "An insured coverage needs the member id on the card."
    if not entry.subscriber_relationship:
        problems["subscriber_relationship"] = "Say who holds the policy (the patient is 'self')."
    return problems


def in_force(effective_from: dt.date, effective_to: dt.date | None, on: dt.date) -> bool:
    return effective_from <= on and (effective_to is None or on <= effective_to)
