"""Writes to the controlled-substance log, and the balances read back from it.

Every write replays the lot's entries through the pure ``ledger.apply`` and applies the new
entry inside the same transaction, so the ledger that refuses a negative balance is the one
that decides. Writers to one lot are serialised: ``select_for_update`` on the lot row on
PostgreSQL; on SQLite every transaction begins IMMEDIATE and so holds the write lock.
A refused entry writes nothing to the log, raises ``ValidationError`` naming the field at
fault, and leaves an ``invalid`` row in the audit trail.

Names in the pure ledger: a lot is its lot number (one lot is replayed at a time), a draw
is ``#<id>``, a person is ``user:<id>`` (so "the same person" is the same account).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.charting import administration
from ketaclinic.charting.models import SessionStatus, TreatmentSession

from . import ledger
from .models import EntryKind, LedgerEntry, Lot

QUANTUM = Decimal("0.01")
# A draw is taken while the session is being prepared or runs; an administration or a
# waste of what was drawn may be logged until the session is closed and after discharge.
DRAW_STATUSES = (SessionStatus.CHECKLIST, SessionStatus.DOSING, SessionStatus.OBSERVATION)
USE_STATUSES = (*DRAW_STATUSES, SessionStatus.DISCHARGED)
# The ledger's field names, as the forms and the API call them.
FIELD_NAMES = {"draw_id": "draw", "session_id": "session", "entry_id": "__all__", "by": "__all__"}


# ---------------------------------------------------------------- the pure ledger, replayed


def person(user_id: int | None) -> str:
    return f"user:{user_id}" if user_id is not None else ""


def draw_key(entry_id: int) -> str:
    """The ledger name of an entry (a draw is looked up by it afterwards)."""
    return f"#{entry_id}"


def to_pure(row: LedgerEntry, lot: Lot, entry_id: str | None = None) -> ledger.Entry | None:
    """The ledger entry ``row`` stands for; ``None`` for a count (it moves no drug)."""
    key = entry_id or draw_key(row.pk)
    by = person(row.by_id)
    if row.kind == EntryKind.RECEIVE:
        return ledger.Receive(key, lot.lot_number, row.vials, lot.mg_per_vial, lot.ml_per_vial, by)
    if row.kind == EntryKind.DRAW:
        return ledger.Draw(key, lot.lot_number, row.quantity_mg, str(row.session_id), by)
    if row.kind == EntryKind.ADMINISTER:
        return ledger.Administer(key, draw_key(row.draw_id), row.quantity_mg, by)
    if row.kind == EntryKind.WASTE:
        return ledger.Waste(
            key,
            row.quantity_mg,
            by,
            person(row.witness_id),
            draw_id=draw_key(row.draw_id) if row.draw_id else None,
            lot=None if row.draw_id else lot.lot_number,
            reason=row.reason,
        )
    return None


def replay(lot: Lot, rows: Iterable[LedgerEntry]) -> ledger.LedgerState:
    """The lot's balances after ``rows`` (its entries, oldest first)."""
    state = ledger.EMPTY
    for row in rows:
        pure = to_pure(row, lot)
        if pure is not None:
            state = ledger.apply(state, pure)
    return state


def lot_state(lot: Lot) -> ledger.LedgerState:
    return replay(lot, LedgerEntry.objects.for_lot(lot))


def states_of(lots: Iterable[Lot]) -> dict[int, ledger.LedgerState]:
    """Each lot's balances, from one query."""
    lots = {lot.pk: lot for lot in lots}
    rows: dict[int, list[LedgerEntry]] = defaultdict(list)
    for row in LedgerEntry.objects.filter(lot__in=lots).order_by("id"):
        rows[row.lot_id].append(row)
    return {pk: replay(lot, rows[pk]) for pk, lot in lots.items()}


# ---------------------------------------------------------------- writing


def reject(request, action: str, error: ValidationError, patient_id: int | None = None):
    trail.record(
        action=action,
        request=request,
        patient_id=patient_id,
        outcome=Outcome.INVALID,
        detail={"errors": error.message_dict if hasattr(error, "error_dict") else error.messages},
    )
    raise error


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


def _append(
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


def _patient_of(session: TreatmentSession | None) -> int | None:
    return session.patient_id if session is not None else None


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
        if not (product and supplier and lot_number):
            raise ValidationError(
                {
                    name: "This field is required."
                    for name, value in (
                        ("product", product),
                        ("supplier", supplier),
                        ("lot_number", lot_number),
                    )
                    if not value
                }
            )
        strength = quantity(mg_per_vial, "mg_per_vial")
        volume = quantity(ml_per_vial, "ml_per_vial")
        if isinstance(vials, bool) or not isinstance(vials, int) or vials <= 0:
            raise ValidationError({"vials": "Give a whole number of vials above 0."})
        if expires_on < timezone.localdate():
            raise ValidationError({"expires_on": "This lot has expired: it cannot be received."})
        with transaction.atomic():
            lot = Lot.objects.filter(product=product, lot_number=lot_number).first()
            if lot is None:
                try:
                    with transaction.atomic():
                        lot = Lot.objects.create(
                            drug=drug,
                            product=product,
                            supplier=supplier,
                            lot_number=lot_number,
                            mg_per_vial=strength,
                            ml_per_vial=volume,
                            vials_received=vials,
                            expires_on=expires_on,
                            received_by=request.user,
                        )
                except IntegrityError:
                    # Someone opened the same lot a moment ago: this is a further delivery.
                    lot = Lot.objects.get(product=product, lot_number=lot_number)
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
            row, _ = _append(
                request=request,
                lot=lot,
                row=row,
                action=action,
                detail={"vials": vials, "supplier": supplier, "product": product},
            )
        return row
    except ValidationError as error:
        reject(request, action, error)


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
        row, _ = _append(
            request=request, lot=lot, row=row, action=action, detail={"session": session.pk}
        )
        return row
    except ValidationError as error:
        reject(request, action, error, _patient_of(session))


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
        logged = administered_in_session(session)
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
        row = LedgerEntry(
            kind=EntryKind.ADMINISTER,
            quantity_mg=amount,
            session=session,
            draw=draw,
            by=request.user,
        )
        row, _ = _append(
            request=request,
            lot=draw.lot,
            row=row,
            action=action,
            detail={"session": session.pk, "draw": draw.pk, "delivered_mg": str(delivered)},
        )
        return row
    except ValidationError as error:
        reject(request, action, error, _patient_of(session))


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
        row, _ = _append(
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
        reject(request, action, error, _patient_of(session))


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
            row, _ = _append(
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


# ---------------------------------------------------------------- the session's side


def delivered_in_session(session: TreatmentSession) -> Decimal:
    """Total drug the session's administration record shows delivered (so far).

    The chart's own total (``charting.workflow.session_delivered``), so the log and the
    chart cannot disagree about what was given.
    """
    from ketaclinic.charting import workflow

    try:
        return workflow.session_delivered(session).total_mg
    except administration.AdministrationError as error:
        raise ValidationError(
            {"session": f"The administration record cannot be totalled: {error.message}"}
        ) from None


def administered_in_session(session: TreatmentSession) -> Decimal:
    rows = LedgerEntry.objects.filter(session=session, kind=EntryKind.ADMINISTER)
    return sum((row.quantity_mg for row in rows.only("quantity_mg")), Decimal(0))


def draw_outstanding(draw: LedgerEntry) -> Decimal:
    used = draw.uses.filter(kind__in=(EntryKind.ADMINISTER, EntryKind.WASTE))
    return draw.quantity_mg - sum((row.quantity_mg for row in used.only("quantity_mg")), Decimal(0))


def show(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value else "0"
    return f"{text} mg"


# ---------------------------------------------------------------- reading the log


@dataclass(frozen=True)
class LotSummary:
    lot: Lot
    balance: ledger.LotBalance
    open_draws: tuple[ledger.DrawBalance, ...]
    last_count: LedgerEntry | None

    @property
    def received_vials(self) -> Decimal:
        return self.balance.received_mg / self.lot.mg_per_vial


def lot_summaries(lots: Iterable[Lot]) -> list[LotSummary]:
    lots = list(lots)
    states = states_of(lots)
    last_counts: dict[int, LedgerEntry] = {}
    for row in (
        LedgerEntry.objects.counts()
        .filter(lot__in=lots)
        .select_related("by", "witness")
        .order_by("lot_id", "-id")
    ):
        last_counts.setdefault(row.lot_id, row)
    return [
        LotSummary(
            lot=lot,
            balance=states[lot.pk].lot(lot.lot_number),
            open_draws=tuple(d for d in ledger.open_draws(states[lot.pk])),
            last_count=last_counts.get(lot.pk),
        )
        for lot in lots
        if lot.lot_number in states[lot.pk].lots
    ]


@dataclass(frozen=True)
class LedgerLine:
    """One entry of a lot's ledger with the balances after it."""

    entry: LedgerEntry
    on_hand_mg: Decimal
    outstanding_mg: Decimal  # drawn and not yet given or wasted, across the lot

    @property
    def change_mg(self) -> Decimal:
        """How the entry moved the drug in the safe: + received, - drawn or wasted from stock."""
        kind = self.entry.kind
        if kind == EntryKind.RECEIVE:
            return self.entry.quantity_mg
        if kind == EntryKind.DRAW or (kind == EntryKind.WASTE and not self.entry.draw_id):
            return -self.entry.quantity_mg
        return Decimal(0)


def lot_ledger(lot: Lot) -> tuple[list[LedgerLine], ledger.LedgerState]:
    """The lot's entries, oldest first, each with the running balance after it."""
    lines, state = [], ledger.EMPTY
    rows = (
        LedgerEntry.objects.for_lot(lot)
        .select_related("by", "witness", "session__patient")
        .order_by("id")
    )
    for row in rows:
        pure = to_pure(row, lot)
        if pure is not None:
            state = ledger.apply(state, pure)
        balance = state.lots.get(lot.lot_number)
        outstanding = sum((d.outstanding_mg for d in state.draws.values()), Decimal(0))
        lines.append(LedgerLine(row, balance.on_hand_mg if balance else Decimal(0), outstanding))
    return lines, state


@dataclass(frozen=True)
class SessionDraw:
    draw: LedgerEntry
    administered_mg: Decimal
    wasted_mg: Decimal

    @property
    def outstanding_mg(self) -> Decimal:
        return self.draw.quantity_mg - self.administered_mg - self.wasted_mg


@dataclass(frozen=True)
class SessionLog:
    """What the log holds for one session, next to what its chart shows delivered."""

    entries: list[LedgerEntry]
    draws: list[SessionDraw]
    delivered_mg: Decimal | None
    delivered_problem: str
    administered_mg: Decimal

    @property
    def open_draws(self) -> list[SessionDraw]:
        return [d for d in self.draws if d.outstanding_mg > 0]

    @property
    def unlogged_mg(self) -> Decimal | None:
        if self.delivered_mg is None:
            return None
        return self.delivered_mg - self.administered_mg


def session_log(session: TreatmentSession) -> SessionLog:
    entries = list(LedgerEntry.objects.for_session(session).select_related("lot", "by", "witness"))
    used: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in entries:
        if row.draw_id:
            used[row.draw_id][row.kind] += row.quantity_mg
    draws = [
        SessionDraw(row, used[row.pk][EntryKind.ADMINISTER], used[row.pk][EntryKind.WASTE])
        for row in entries
        if row.kind == EntryKind.DRAW
    ]
    try:
        delivered, problem = delivered_in_session(session), ""
    except ValidationError as error:
        delivered, problem = None, " ".join(error.messages)
    administered = sum(
        (row.quantity_mg for row in entries if row.kind == EntryKind.ADMINISTER), Decimal(0)
    )
    return SessionLog(entries, draws, delivered, problem, administered)
