"""Drug taken for a session: drawn from a lot, logged as given, or the rest wasted.

What is logged as administered must agree with what the session's administration record
shows delivered. A waste, of a draw's rest or of stock, needs a witness. A refused entry
writes nothing to the log and leaves an ``invalid`` row in the audit trail.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.trail import reject
from ketaclinic.charting.models import SessionStatus, TreatmentSession

from .entry_service import append_entry, check_witness, patient_of, quantity
from .models import EntryKind, LedgerEntry, Lot
from .session_drug import administered_in_session, delivered_in_session, draw_outstanding, show

# A draw is taken while the session is being prepared or runs; an administration or a
# waste of what was drawn may be logged until the session is closed and after discharge.
DRAW_STATUSES = (SessionStatus.CHECKLIST, SessionStatus.DOSING, SessionStatus.OBSERVATION)
USE_STATUSES = (*DRAW_STATUSES, SessionStatus.DISCHARGED)


def draw_record(
    *, request, session: TreatmentSession, lot: Lot, quantity_mg, reason: str = ""
) -> LedgerEntry:
    """Take drug from a lot for a session (drawn into a syringe, or devices taken out)."""
    action = "inventory.draw"
    try:
        amount = quantity(quantity_mg)
        if session.status not in DRAW_STATUSES:
            raise ValidationError(
                {"session": f"A session in {session.get_status_display().lower()} takes no draw."}
            )
        if lot.drug != session.drug:
            raise ValidationError(
                {"lot": f"Lot {lot.lot_number} is {lot.drug}; this session gives {session.drug}."}
            )
        if lot.expired_on(timezone.localdate()):
            raise ValidationError({"lot": f"Lot {lot.lot_number} expired on {lot.expires_on}."})
        row = LedgerEntry(
            kind=EntryKind.DRAW,
            quantity_mg=amount,
            session=session,
            by=request.user,
            reason=reason.strip(),
        )
        row, _ = append_entry(
            request=request, lot=lot, row=row, action=action, detail={"session": session.pk}
        )
        return row
    except ValidationError as error:
        reject(request, action, error, patient_of(session))


def administer_record(*, request, draw: LedgerEntry, quantity_mg=None) -> LedgerEntry:
    """Log drug of a draw as given, against what the session's administration record shows.

    Without ``quantity_mg`` the entry takes what the chart shows delivered and not yet
    logged, up to what the draw has left. More than the chart shows delivered is refused:
    the log and the administration record must agree.
    """
    action = "inventory.administer"
    session = draw.session
    try:
        if draw.kind != EntryKind.DRAW:
            raise ValidationError({"draw": "Administer from a draw."})
        if session.status not in USE_STATUSES:
            raise ValidationError(
                {"session": f"A session in {session.get_status_display().lower()} gives nothing."}
            )
        delivered = delivered_in_session(session)
        amount = _amount_given(draw, quantity_mg, delivered, administered_in_session(session))
        row = LedgerEntry(
            kind=EntryKind.ADMINISTER,
            quantity_mg=amount,
            session=session,
            draw=draw,
            by=request.user,
        )
        row, _ = append_entry(
            request=request,
            lot=draw.lot,
            row=row,
            action=action,
            detail={"session": session.pk, "draw": draw.pk, "delivered_mg": str(delivered)},
        )
        return row
    except ValidationError as error:
        reject(request, action, error, patient_of(session))


def _amount_given(draw: LedgerEntry, quantity_mg, delivered: Decimal, logged: Decimal) -> Decimal:
    """The amount to log as given: asked for, or what the chart shows not yet logged (up to
    what the draw has left); never more than the chart shows delivered and not logged."""
    remaining = delivered - logged
    if remaining <= 0:
        raise ValidationError(
            {
                "quantity_mg": (
                    f"The administration record shows {show(delivered)} delivered in this "
                    f"session, all of it already logged."
                    if delivered
                    else "The administration record shows nothing delivered yet."
                )
            }
        )
    if quantity_mg in (None, ""):
        left = draw_outstanding(draw)
        amount = min(remaining, left) if left > 0 else remaining
    else:
        amount = quantity(quantity_mg)
    if amount > remaining:
        raise ValidationError(
            {
                "quantity_mg": f"The administration record shows {show(delivered)} delivered "
                f"in this session and {show(logged)} already logged: at most "
                f"{show(remaining)} more can be logged as administered."
            }
        )
    return amount


def waste_record(
    *,
    request,
    quantity_mg,
    witness,
    draw: LedgerEntry | None = None,
    lot: Lot | None = None,
    reason: str = "",
) -> LedgerEntry:
    """Log drug destroyed before a witness: the rest of a draw, or stock of a lot."""
    action = "inventory.waste"
    session = draw.session if draw is not None else None
    try:
        amount = quantity(quantity_mg)
        check_witness(request, witness)
        if (draw is None) == (lot is None):
            raise ValidationError({"__all__": "Waste either the rest of a draw or stock of a lot."})
        if draw is not None and draw.kind != EntryKind.DRAW:
            raise ValidationError({"draw": "Waste the rest of a draw."})
        if draw is None and not reason.strip():
            raise ValidationError(
                {"reason": "Say why stock is wasted (broken vial, expired, contaminated)."}
            )
        row = LedgerEntry(
            kind=EntryKind.WASTE,
            quantity_mg=amount,
            session=session,
            draw=draw,
            by=request.user,
            witness=witness,
            reason=reason.strip(),
        )
        row, _ = append_entry(
            request=request,
            lot=draw.lot if draw is not None else lot,
            row=row,
            action=action,
            detail={
                "witness": witness.username,
                "draw": draw.pk if draw is not None else None,
                "reason": reason.strip(),
            },
        )
        return row
    except ValidationError as error:
        reject(request, action, error, patient_of(session))
