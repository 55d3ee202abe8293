"""Appending to the controlled-substance log: the one way an entry is written.

Every write replays the lot's entries through the pure ``ledger.apply`` and applies the new
entry inside the same transaction, so the ledger that refuses a negative balance is the one
that decides. Writers to one lot are serialised: ``select_for_update`` on the lot row on
PostgreSQL; on SQLite every transaction begins IMMEDIATE and so holds the write lock.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.charting.models import TreatmentSession

from . import ledger
from .models import LedgerEntry, Lot
from .replay import lot_state, to_pure

QUANTUM = Decimal("0.01")
# The ledger's field names, as the forms and the API call them.
FIELD_NAMES = {"draw_id": "draw", "session_id": "session", "entry_id": "__all__", "by": "__all__"}


def refused(error: ledger.LedgerError) -> ValidationError:
    return ValidationError({FIELD_NAMES.get(error.field, error.field): error.message})


def quantity(value, field: str = "quantity_mg", *, allow_zero: bool = False) -> Decimal:
    """A quantity in mg to 0.01 mg, above 0 (or 0 and above)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValidationError({field: f"Give the quantity in mg, not {value!r}."})
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number of mg."}) from None
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        raise ValidationError({field: "The quantity must be above 0 mg."})
    if number != number.quantize(QUANTUM):
        raise ValidationError({field: "Give the quantity to 0.01 mg at most."})
    if number >= Decimal(10) ** 8:
        raise ValidationError({field: "The quantity is too large for the log."})
    return number


def check_witness(request, witness) -> None:
    if witness is None:
        raise ValidationError({"witness": "A controlled-substance waste or count needs a witness."})
    if witness.pk == request.user.pk:
        raise ValidationError(
            {"witness": "The witness must be someone other than the person recording."}
        )
    if not can(witness, "inventory.witness"):
        raise ValidationError(
            {"witness": f"{witness.display_name} may not witness controlled substances."}
        )


def append_entry(
    *, request, lot: Lot, row: LedgerEntry, action: str, detail: dict
) -> tuple[LedgerEntry, ledger.LedgerState]:
    """Lock the lot, replay it, apply ``row`` through the ledger, then store and audit it."""
    with transaction.atomic():
        locked = Lot.objects.select_for_update().get(pk=lot.pk)
        state = lot_state(locked)
        pure = to_pure(row, locked, entry_id="new")
        if pure is not None:
            try:
                state = ledger.apply(state, pure)
            except ledger.LedgerError as error:
                raise refused(error) from None
        row.lot = locked
        row.save(force_insert=True)
        trail.record(
            action=action,
            request=request,
            patient_id=row.session.patient_id if row.session_id else None,
            target=row,
            detail={"lot": locked.lot_number, "quantity_mg": str(row.quantity_mg), **detail},
        )
    return row, state


def patient_of(session: TreatmentSession | None) -> int | None:
    return session.patient_id if session is not None else None
