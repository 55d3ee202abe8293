"""Prior-authorization rules over plain values: allowed moves, what each status needs, and
whether an authorization covers the visits being booked.

A status moves only along ``AUTH_TRANSITIONS`` (models.py). An approval carries the payer's
auth number, the units (visits) approved and the dates they may be used in; a denial carries
the payer's reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .models import AUTH_TRANSITIONS, AuthStatus

# A plan with no authorization record yet may start anywhere but in a denial or appeal (an
# approval obtained before the record existed is entered as approved).
FIRST_STATUSES = frozenset(
    {AuthStatus.NOT_NEEDED, AuthStatus.TO_SUBMIT, AuthStatus.SUBMITTED, AuthStatus.APPROVED}
)


@dataclass(frozen=True)
class AuthChange:
    to_status: str
    auth_number: str = ""
    units: int | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    denial_reason: str = ""


@dataclass(frozen=True)
class AuthSnapshot:
    status: str
    units: int | None
    valid_from: dt.date | None
    valid_to: dt.date | None


@dataclass(frozen=True)
class Visit:
    number: int | None
    date: dt.date


@dataclass(frozen=True)
class VisitWarning:
    number: int | None  # None: the whole course
    message: str


def allowed_next(status: str | None) -> frozenset[str]:
    return FIRST_STATUSES if not status else AUTH_TRANSITIONS[status]


def change_problems(from_status: str | None, change: AuthChange) -> dict[str, str]:
    """Field → the rule ``change`` breaks; empty when it may be stored."""
    if change.to_status not in AuthStatus.values:
        return {"status": f"Unknown status; use one of: {', '.join(AuthStatus.values)}."}
    if change.to_status not in allowed_next(from_status):
        was = AuthStatus(from_status).label if from_status else "no authorization yet"
        allowed = ", ".join(AuthStatus(s).label for s in sorted(allowed_next(from_status)))
        return {
            "status": f"An authorization cannot go from {was} to "
            f"{AuthStatus(change.to_status).label}; next may be: {allowed}."
        }
    problems: dict[str, str] = {}
    if change.to_status == AuthStatus.APPROVED:
        if not change.auth_number.strip():
            problems["auth_number"] = "An approval needs the payer's authorization number."
        if not change.units or change.units < 1:
            problems["units"] = "An approval needs the number of visits approved (at least 1)."
        if change.valid_from is None:
            problems["valid_from"] = "An approval needs the first date it covers."
        if change.valid_to is None:
            problems["valid_to"] = "An approval needs the last date it covers."
        elif change.valid_from is not None and change.valid_to < change.valid_from:
            problems["valid_to"] = "The approval cannot end before it starts."
    if change.to_status == AuthStatus.DENIED and not change.denial_reason.strip():
        problems["denial_reason"] = "A denial needs the payer's reason."
    return problems


def booking_warnings(
    auth: AuthSnapshot | None, visits: Sequence[Visit], *, already_booked: int = 0
) -> list[VisitWarning]:
    """Why booking ``visits`` of an esketamine course may not be paid for.

    ``already_booked`` visits of the same course use units first. Warnings, not refusals:
    the clinic may book while the authorization is pending or treat self-pay.
    """
    if auth is not None and auth.status == AuthStatus.NOT_NEEDED:
        return []
    if auth is None or auth.status != AuthStatus.APPROVED:
        state = AuthStatus(auth.status).label.lower() if auth else "not started"
        return [
            VisitWarning(
                None,
                f"No approved prior authorization for this esketamine course "
                f"(authorization: {state}).",
            )
        ]
    warnings = []
    ordered = sorted(visits, key=lambda v: (v.date, v.number or 0))
    for position, visit in enumerate(ordered, start=already_booked + 1):
        label = f"Visit {visit.number}" if visit.number else f"The visit on {visit.date}"
        if not (auth.valid_from <= visit.date <= auth.valid_to):
            warnings.append(
                VisitWarning(
                    visit.number,
                    f"{label} on {visit.date} is outside the authorized dates "
                    f"({auth.valid_from} to {auth.valid_to}).",
                )
            )
        if auth.units is not None and position > auth.units:
            warnings.append(
                VisitWarning(
                    visit.number,
                    f"{label} on {visit.date} is beyond the {auth.units} visits authorized.",
                )
            )
    return warnings
