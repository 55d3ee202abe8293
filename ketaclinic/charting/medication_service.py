"""What was drawn up and given besides the dose: the product and its lot, other medications.

The product drawn up is named with its concentration, lot and expiry (an expired lot is
refused; a correction keeps the old values in the audit trail). Premedication (e.g.
ondansetron) and rescue medication are charted with drug, dose, route and time; a rescue
medication needs its reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .models import ACTIVE, MedicationGiven, MedicationKind, TreatmentSession
from .session_service import (
    audit,
    entry_time,
    require,
    require_status,
    session_day,
    write_locked,
)

PRODUCT_FIELDS = ("product", "concentration_mg_per_ml", "lot_number", "lot_expiry")


def product_record(
    *,
    request,
    session: TreatmentSession,
    product: str,
    lot_number: str,
    lot_expiry: dt.date | None,
    concentration_mg_per_ml: Decimal | None = None,
) -> TreatmentSession:
    """The product drawn up: name, concentration, lot and expiry. A correction keeps the old
    values in the audit trail."""

    def write(locked: TreatmentSession) -> TreatmentSession:
        require_status(locked, ACTIVE, "record the product")
        _check_product(locked, product, lot_number, lot_expiry, concentration_mg_per_ml)
        new = {
            "product": product.strip(),
            "concentration_mg_per_ml": concentration_mg_per_ml,
            "lot_number": lot_number.strip(),
            "lot_expiry": lot_expiry,
        }
        changes = {
            name: [getattr(locked, name), value]
            for name, value in new.items()
            if getattr(locked, name) != value
        }
        for name, value in new.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(PRODUCT_FIELDS))
        audit(
            request,
            "session.product",
            locked,
            changes={k: ["" if a is None else str(a), str(b)] for k, (a, b) in changes.items()},
        )
        return locked

    return write_locked(request, session, "session.product", write)


def _check_product(
    session: TreatmentSession,
    product: str,
    lot_number: str,
    lot_expiry: dt.date | None,
    concentration_mg_per_ml: Decimal | None,
) -> None:
    """Named, with a lot in date on the session's day, and (but for esketamine) its strength."""
    require(bool((product or "").strip()), "product", "Name the product.")
    require(bool((lot_number or "").strip()), "lot_number", "Give the lot number.")
    require(lot_expiry is not None, "lot_expiry", "Give the lot's expiry date.")
    require(
        lot_expiry >= session_day(session),
        "lot_expiry",
        f"This lot expired on {lot_expiry:%Y-%m-%d}: do not use it.",
    )
    if session.route != "esketamine":
        require(
            concentration_mg_per_ml is not None and concentration_mg_per_ml > 0,
            "concentration_mg_per_ml",
            "Give the concentration in mg/mL.",
        )


def medication_give(
    *,
    request,
    session: TreatmentSession,
    kind: str,
    drug: str,
    dose: str,
    route: str,
    reason: str = "",
    at: dt.datetime | None = None,
) -> MedicationGiven:
    """Premedication (e.g. ondansetron) or a rescue medication, with dose and time."""
    drug, dose, route, reason = (
        v.strip() for v in (drug or "", dose or "", route or "", reason or "")
    )

    def write(locked: TreatmentSession) -> MedicationGiven:
        require_status(locked, ACTIVE, "chart a medication")
        require(kind in MedicationKind.values, "kind", "Premedication or rescue medication?")
        require(bool(drug), "drug", "Name the drug.")
        require(bool(dose), "dose", "Give the dose.")
        require(bool(route), "route", "Give the route.")
        if kind == MedicationKind.RESCUE:
            require(bool(reason), "reason", "Say why the rescue medication was given.")
        given = MedicationGiven.objects.create(
            session=locked,
            kind=kind,
            drug=drug[:100],
            dose=dose[:50],
            route=route[:30],
            reason=reason[:300],
            at=entry_time(locked, at),
            recorded_by=request.user,
        )
        audit(
            request,
            "session.medication",
            locked,
            given,
            kind=kind,
            drug=given.drug,
            dose=given.dose,
            route=given.route,
        )
        return given

    return write_locked(request, session, "session.medication", write)
