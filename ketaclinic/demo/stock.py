"""The demo clinic's controlled-substance stock: lots received, drawn for each session.

Every demo session names a lot that the inventory received before the session, and its
delivered dose is drawn from that lot: a draw when the nurse prepares the dose, an
administration of what the chart shows delivered, and the unused rest wasted before a
witness. Entries go through the inventory's own ledger (``inventory/services.py``: the lot
is locked and replayed, and the pure ``ledger.apply`` refuses a negative balance); only
their time is the moment on the demo's past day rather than the real clock, since the log
is append-only and cannot be re-dated afterwards. A witnessed count of every lot closes the
load, and must match the ledger.

Products: ketamine hydrochloride injection 50 mg/mL in 10 mL vials (the concentration the
demo charts already record) and Spravato 28 mg nasal devices (label; a "vial" is one device).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.charting import administration_service
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo.plans import DemoRequest
from ketaclinic.inventory import services as inventory
from ketaclinic.inventory.models import Drug, EntryKind, LedgerEntry, Lot
from ketaclinic.scheduling.models import clinic_datetime

KETAMINE = {
    "drug": Drug.RACEMIC_KETAMINE,
    "product": "Ketamine hydrochloride injection 50 mg/mL, 10 mL vial",
    "supplier": "Demo Pharmaceutical Wholesale",
    "mg_per_vial": Decimal(500),
    "ml_per_vial": Decimal(10),
    "vials": 10,
    "prefix": "DEMO-K",
}
ESKETAMINE = {
    "drug": Drug.ESKETAMINE,
    "product": "Spravato (esketamine) nasal spray device 28 mg",
    "supplier": "Demo Specialty Pharmacy (REMS)",
    "mg_per_vial": Decimal(28),
    "ml_per_vial": Decimal("0.2"),
    "vials": 36,
    "prefix": "DEMO-E",
}
# Headroom over the planned dose when drawing up (0.01 mL of a 50 mg/mL injection).
SYRINGE_STEP = Decimal("0.5")
SHELF_LIFE = dt.timedelta(days=730)


def product_of(drug: str) -> dict:
    return ESKETAMINE if drug == Drug.ESKETAMINE else KETAMINE


def lot_for(session: TreatmentSession, users: dict[str, User], day: dt.date) -> Lot:
    """The lot in use in ``day``'s month, received on the month's first working day."""
    spec = product_of(session.drug)
    lot = Lot.objects.filter(
        product=spec["product"], lot_number=f"{spec['prefix']}{day:%y%m}"
    ).first()
    return lot or receive(spec, users, day.replace(day=1))


def receive(spec: dict, users: dict[str, User], first: dt.date) -> Lot:
    """A delivery checked in by the nurse at 08:00 of the month's first working day."""
    while first.weekday() >= 5:
        first += dt.timedelta(days=1)
    at = clinic_datetime(first, dt.time(8, 0))
    if at > timezone.now():
        at = timezone.now()
    nurse = users["nurse"]
    lot = Lot.objects.create(
        drug=spec["drug"],
        product=spec["product"],
        supplier=spec["supplier"],
        lot_number=f"{spec['prefix']}{first:%y%m}",
        mg_per_vial=spec["mg_per_vial"],
        ml_per_vial=spec["ml_per_vial"],
        vials_received=spec["vials"],
        expires_on=first + SHELF_LIFE,
        received_at=at,
        received_by=nurse,
    )
    _append(
        lot,
        LedgerEntry(
            kind=EntryKind.RECEIVE,
            quantity_mg=lot.mg_per_vial * spec["vials"],
            vials=spec["vials"],
            by=nurse,
            at=at,
            reason="Delivery checked against the invoice",
        ),
        users["nurse"],
        "inventory.receive",
    )
    return lot


def _append(lot: Lot, row: LedgerEntry, actor: User, action: str) -> LedgerEntry:
    row, _ = inventory.append_entry(
        request=DemoRequest(actor), lot=lot, row=row, action=action, detail={"demo": True}
    )
    return row


def draw_for(session: TreatmentSession, lot: Lot, at: dt.datetime) -> LedgerEntry:
    """The dose drawn up for the session: whole devices, or the dose to the syringe's mark."""
    dose = session.planned_dose_mg
    if lot.drug == Drug.ESKETAMINE:
        quantity = (dose / lot.mg_per_vial).to_integral_value(ROUND_CEILING) * lot.mg_per_vial
    else:
        # Drawn to the next whole mL above the dose (a pump may give a hair over the plan as
        # the rate is rounded); the rest is wasted before a witness after the infusion.
        quantity = ((dose + SYRINGE_STEP) / lot.mg_per_ml).to_integral_value(
            ROUND_CEILING
        ) * lot.mg_per_ml
    if lot.drug != session.drug:
        raise ValueError(
            f"lot {lot.lot_number} is {lot.drug}, session {session.pk} gives {session.drug}"
        )
    return _append(
        lot,
        LedgerEntry(
            kind=EntryKind.DRAW, quantity_mg=quantity, session=session, by=session.nurse, at=at
        ),
        session.nurse,
        "inventory.draw",
    )


def account_for(draw: LedgerEntry, witness: User, at: dt.datetime) -> None:
    """Log what the chart shows delivered as administered; waste the rest before a witness."""
    session = draw.session
    delivered = administration_service.session_delivered(session).total_mg.quantize(
        inventory.QUANTUM
    )
    if delivered > 0:
        _append(
            draw.lot,
            LedgerEntry(
                kind=EntryKind.ADMINISTER,
                quantity_mg=delivered,
                session=session,
                draw=draw,
                by=session.nurse,
                at=at,
            ),
            session.nurse,
            "inventory.administer",
        )
    rest = draw.quantity_mg - delivered
    if rest > 0:
        _append(
            draw.lot,
            LedgerEntry(
                kind=EntryKind.WASTE,
                quantity_mg=rest,
                session=session,
                draw=draw,
                by=session.nurse,
                witness=witness,
                reason="Unused rest of the prepared dose",
                at=at + dt.timedelta(minutes=1),
            ),
            session.nurse,
            "inventory.waste",
        )


def count_all(users: dict[str, User]) -> int:
    """Today's witnessed count of every demo lot (it matches the ledger)."""
    counted = 0
    for lot in Lot.objects.filter(lot_number__startswith="DEMO-"):
        if LedgerEntry.objects.counts().filter(lot=lot).exists():
            continue
        balance = inventory.lot_state(lot).lot(lot.lot_number)
        full, rest = divmod(balance.on_hand_mg, lot.mg_per_vial)
        inventory.count_record(
            request=DemoRequest(users["nurse"]),
            lot=lot,
            full_vials=int(full),
            partial_ml=(rest / lot.mg_per_ml).quantize(Decimal("0.01")),
            witness=users["prescriber"],
            reason="End-of-day count",
        )
        counted += 1
    return counted


# --- the outcome cohort: years of sessions, written in bulk -----------------------------------

TROCHE = {
    "drug": Drug.RACEMIC_KETAMINE,
    "product": "Ketamine 150 mg sublingual troche (compounded)",
    "supplier": "Demo Compounding Pharmacy",
    "mg_per_vial": Decimal(150),
    "ml_per_vial": Decimal(1),  # the inventory counts a troche as one unit of 1
    "prefix": "COH-T",
}
COHORT_PRODUCTS = {
    "injection": KETAMINE | {"prefix": "COH-K"},
    "troche": TROCHE,
    "device": ESKETAMINE | {"prefix": "COH-E"},
}


def cohort_product(route: str) -> str:
    """What a cohort session is given from: devices, troches, or the injection solution
    (IV, IM, and oral doses drawn from it)."""
    return {"esketamine": "device", "sublingual": "troche"}.get(route, "injection")


def first_working_day(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    while first.weekday() >= 5:
        first += dt.timedelta(days=1)
    return first


def cohort_lot(route: str, day: dt.date) -> tuple[str, str, dt.date]:
    """Product, lot number and expiry of the lot a cohort session on ``day`` is given from."""
    spec = COHORT_PRODUCTS[cohort_product(route)]
    first = first_working_day(day)
    return spec["product"], f"{spec['prefix']}{first:%y%m}", first + SHELF_LIFE


def drawn_mg(spec: dict, dose: Decimal) -> Decimal:
    """Whole devices or troches; a solution to the next whole mL above the dose."""
    if spec is KETAMINE or spec["prefix"] == "COH-K":
        per_ml = spec["mg_per_vial"] / spec["ml_per_vial"]
        return ((dose + SYRINGE_STEP) / per_ml).to_integral_value(ROUND_CEILING) * per_ml
    return (dose / spec["mg_per_vial"]).to_integral_value(ROUND_CEILING) * spec["mg_per_vial"]


def write_cohort_ledger(sessions: list[TreatmentSession], delivered: dict[int, Decimal]) -> int:
    """Receipts, draws, administrations and witnessed waste for cohort sessions just written.

    ``delivered`` maps a session's id to what its administration record shows. Each lot is
    delivered (again) with enough whole vials before this chunk's draws; rows go in in the
    ledger's order (receipts, then draws, then what became of them). Returns rows written.
    """
    by_lot: dict[tuple[str, str], list[TreatmentSession]] = {}
    for session in sessions:
        by_lot.setdefault((session.product, session.lot_number), []).append(session)
    lots: dict[tuple[str, str], Lot] = {
        (lot.product, lot.lot_number): lot
        for lot in Lot.objects.filter(lot_number__startswith="COH-")
    }
    specs = {spec["product"]: spec for spec in COHORT_PRODUCTS.values()}
    receipts, draws = [], []
    for (product, number), own in by_lot.items():
        spec = specs[product]
        lot = lots.get((product, number)) or _cohort_lot(spec, number, own)
        lots[(product, number)] = lot
        receipts.append(_cohort_receipt(spec, lot, own))
        draws.extend(_cohort_draw(spec, lot, session) for session in own)
    new_lots = [lot for lot in lots.values() if lot.pk is None]
    for lot in new_lots:
        lot.vials_received = next(r.vials for r in receipts if r.lot is lot)
    Lot.objects.bulk_create(new_lots)
    for row in receipts + draws:
        row.lot_id = row.lot.pk
    LedgerEntry.objects.bulk_create(receipts)
    LedgerEntry.objects.bulk_create(draws)
    uses = [row for draw in draws for row in _cohort_uses(draw, delivered[draw.session.pk])]
    LedgerEntry.objects.bulk_create(uses)
    return len(receipts) + len(draws) + len(uses)


def _cohort_lot(spec: dict, number: str, own: list[TreatmentSession]) -> Lot:
    """A lot first seen in this chunk, received on the working day of its first session."""
    first = min(s.opened_at for s in own)
    day = first_working_day(timezone.localdate(first))
    return Lot(
        drug=spec["drug"],
        product=spec["product"],
        supplier=spec["supplier"],
        lot_number=number,
        mg_per_vial=spec["mg_per_vial"],
        ml_per_vial=spec["ml_per_vial"],
        vials_received=1,
        expires_on=day + SHELF_LIFE,
        received_at=min(first, clinic_datetime(day, dt.time(8, 0))),
        received_by=own[0].nurse,
    )


def _cohort_receipt(spec: dict, lot: Lot, own: list[TreatmentSession]) -> LedgerEntry:
    """A delivery of enough whole vials for the sessions drawing from ``lot``."""
    first = min(s.opened_at for s in own)
    need = sum((drawn_mg(spec, s.planned_dose_mg) for s in own), Decimal(0))
    vials = int((need / spec["mg_per_vial"]).to_integral_value(ROUND_CEILING))
    return LedgerEntry(
        lot=lot,
        kind=EntryKind.RECEIVE,
        quantity_mg=spec["mg_per_vial"] * vials,
        vials=vials,
        by=own[0].nurse,
        at=min(first, clinic_datetime(first_working_day(first.date()), dt.time(8, 0))),
        reason="Delivery checked against the invoice",
    )


def _cohort_draw(spec: dict, lot: Lot, session: TreatmentSession) -> LedgerEntry:
    """The session's dose drawn up nine minutes after it opened."""
    return LedgerEntry(
        lot=lot,
        kind=EntryKind.DRAW,
        quantity_mg=drawn_mg(spec, session.planned_dose_mg),
        session=session,
        by=session.nurse,
        at=session.opened_at + dt.timedelta(minutes=9),
    )


def _cohort_uses(draw: LedgerEntry, given: Decimal) -> list[LedgerEntry]:
    """What became of a draw: given, and the rest wasted with the prescriber as witness."""
    session = draw.session
    at = session.dose_ended_at + dt.timedelta(minutes=2)
    uses = [
        LedgerEntry(
            lot_id=draw.lot_id,
            kind=EntryKind.ADMINISTER,
            quantity_mg=given,
            session=session,
            draw=draw,
            by=session.nurse,
            at=at,
        )
    ]
    if draw.quantity_mg > given:
        uses.append(
            LedgerEntry(
                lot_id=draw.lot_id,
                kind=EntryKind.WASTE,
                quantity_mg=draw.quantity_mg - given,
                session=session,
                draw=draw,
                by=session.nurse,
                witness=session.prescriber_on_site,
                reason="Unused rest of the prepared dose",
                at=at + dt.timedelta(minutes=1),
            )
        )
    return uses
