"""Stock in the safe: lots received and witnessed physical counts.

A refused entry writes nothing to the log, raises ``ValidationError`` naming the field at
fault, and leaves an ``invalid`` row in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit.trail import reject

from . import ledger
from .entry_service import QUANTUM, append_entry, check_witness, quantity, refused
from .models import EntryKind, LedgerEntry, Lot
from .replay import lot_state
from .session_drug import show

# The log's columns: mg per vial to 999,999.99, mL per vial to 9,999.99, a delivery's mg to
# 99,999,999.99 (inventory/models.py). Larger numbers are typing errors, refused by name.
MAX_MG_PER_VIAL = Decimal("999999.99")
MAX_ML_PER_VIAL = Decimal("9999.99")
MAX_DELIVERY_MG = Decimal("99999999.99")


def _fits_the_log(strength: Decimal, volume: Decimal, vials: int) -> None:
    """A strength, volume and delivery the log can hold, or a 422 naming the field."""
    if strength > MAX_MG_PER_VIAL:
        raise ValidationError({"mg_per_vial": f"At most {MAX_MG_PER_VIAL:,} mg per vial."})
    if volume > MAX_ML_PER_VIAL:
        raise ValidationError({"ml_per_vial": f"At most {MAX_ML_PER_VIAL:,} mL per vial."})
    if strength * vials > MAX_DELIVERY_MG:
        raise ValidationError(
            {"vials": f"One delivery holds at most {MAX_DELIVERY_MG:,} mg: check the vials."}
        )


def lot_receive(
    *,
    request,
    drug: str,
    product: str,
    supplier: str,
    lot_number: str,
    mg_per_vial,
    ml_per_vial,
    vials: int,
    expires_on: dt.date,
    reason: str = "",
) -> LedgerEntry:
    """Log whole vials of a lot arriving; the first delivery of a lot opens it."""
    action = "inventory.receive"
    try:
        product, supplier, lot_number = product.strip(), supplier.strip(), lot_number.strip()
        _require(product=product, supplier=supplier, lot_number=lot_number)
        strength = quantity(mg_per_vial, "mg_per_vial")
        volume = quantity(ml_per_vial, "ml_per_vial")
        if isinstance(vials, bool) or not isinstance(vials, int) or vials <= 0:
            raise ValidationError({"vials": "Give a whole number of vials above 0."})
        _fits_the_log(strength, volume, vials)
        if expires_on < timezone.localdate():
            raise ValidationError({"expires_on": "This lot has expired: it cannot be received."})
        with transaction.atomic():
            lot = _open_lot(
                request,
                drug=drug,
                product=product,
                supplier=supplier,
                lot_number=lot_number,
                mg_per_vial=strength,
                ml_per_vial=volume,
                vials=vials,
                expires_on=expires_on,
            )
            _same_lot(
                lot, drug=drug, mg_per_vial=strength, ml_per_vial=volume, expires_on=expires_on
            )
            row = LedgerEntry(
                kind=EntryKind.RECEIVE,
                quantity_mg=lot.mg_per_vial * vials,
                vials=vials,
                by=request.user,
                reason=reason.strip(),
            )
            row, _ = append_entry(
                request=request,
                lot=lot,
                row=row,
                action=action,
                detail={"vials": vials, "supplier": supplier, "product": product},
            )
        return row
    except ValidationError as error:
        reject(request, action, error)


def _require(**fields: str) -> None:
    missing = {name: "This field is required." for name, value in fields.items() if not value}
    if missing:
        raise ValidationError(missing)


def _open_lot(request, *, product: str, lot_number: str, vials: int, **first_delivery) -> Lot:
    """The lot, opened by this delivery when it is the first one."""
    lot = Lot.objects.filter(product=product, lot_number=lot_number).first()
    if lot is not None:
        return lot
    try:
        with transaction.atomic():
            return Lot.objects.create(
                product=product,
                lot_number=lot_number,
                vials_received=vials,
                received_by=request.user,
                **first_delivery,
            )
    except IntegrityError:
        # Someone opened the same lot a moment ago: this is a further delivery.
        return Lot.objects.get(product=product, lot_number=lot_number)


def _same_lot(
    lot: Lot, *, drug: str, mg_per_vial: Decimal, ml_per_vial: Decimal, expires_on: dt.date
) -> None:
    """A further delivery of a lot must be the lot as first received."""
    if lot.drug != drug:
        raise ValidationError({"drug": f"Lot {lot.lot_number} was received as {lot.drug}."})
    if (lot.mg_per_vial, lot.ml_per_vial) != (mg_per_vial, ml_per_vial):
        raise ValidationError(
            {
                "mg_per_vial": f"Lot {lot.lot_number} was received as {show(lot.mg_per_vial)} "
                f"in {format(lot.ml_per_vial.normalize(), 'f')} mL per vial."
            }
        )
    if lot.expires_on != expires_on:
        raise ValidationError(
            {"expires_on": f"Lot {lot.lot_number} was received expiring {lot.expires_on}."}
        )


def count_record(
    *, request, lot: Lot, full_vials: int, partial_ml, witness, reason: str = ""
) -> tuple[LedgerEntry, ledger.Reconciliation]:
    """Log a witnessed physical count of a lot against the balance the ledger expects."""
    action = "inventory.count"
    try:
        check_witness(request, witness)
        if isinstance(full_vials, bool) or not isinstance(full_vials, int) or full_vials < 0:
            raise ValidationError({"full_vials": "Give a whole number of sealed vials, 0 or more."})
        partial = quantity(partial_ml or 0, "partial_ml", allow_zero=True)
        with transaction.atomic():
            locked = Lot.objects.select_for_update().get(pk=lot.pk)
            state = lot_state(locked)
            try:
                counted = ledger.counted_mg(
                    state.lot(locked.lot_number), full_vials=full_vials, partial_ml=partial
                )
                result = ledger.reconcile(state, locked.lot_number, counted.quantize(QUANTUM))
            except ledger.LedgerError as error:
                raise refused(error) from None
            row = LedgerEntry(
                kind=EntryKind.COUNT,
                quantity_mg=result.counted_mg,
                vials=full_vials,
                partial_ml=partial,
                by=request.user,
                witness=witness,
                reason=reason.strip(),
                expected_mg=result.expected_mg,
                discrepancy_mg=result.discrepancy_mg,
            )
            row, _ = append_entry(
                request=request,
                lot=locked,
                row=row,
                action=action,
                detail={
                    "witness": witness.username,
                    "expected_mg": str(result.expected_mg),
                    "discrepancy_mg": str(result.discrepancy_mg),
                    "flagged": result.flagged,
                },
            )
        return row, result
    except ValidationError as error:
        reject(request, action, error)
