"""The controlled-substance log over JSON: lots, their ledgers, a session's entries, and writes.

Writes go through the same services as the pages; a waste or count names its witness, who
signs with their own password (``accounts.verification``: a wrong password is audited and
throttled on its own, 429 after too many, and never locks the witness out of signing in).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Router, Schema
from ninja import Status as Reply
from ninja.errors import HttpError
from pydantic import ConfigDict

from ketaclinic.accounts import verification
from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.charting.access import access_session

from . import services
from .models import Drug, EntryKind, LedgerEntry, Lot
from .views import access_lot, staff_only

router = Router(tags=["controlled substances"])

MG = {"gt": 0, "max_digits": 10, "decimal_places": 2}


class EntryOut(Schema):
    id: int
    lot_id: int
    kind: EntryKind
    quantity_mg: Decimal
    vials: int | None
    partial_ml: Decimal | None
    session_id: int | None
    draw_id: int | None
    by: str = Field(alias="by.username")
    witness: str | None = None
    reason: str
    expected_mg: Decimal | None
    discrepancy_mg: Decimal | None
    flagged: bool
    at: dt.datetime

    @staticmethod
    def resolve_witness(entry: LedgerEntry) -> str | None:
        return entry.witness.username if entry.witness_id else None


class LedgerLineOut(Schema):
    entry: EntryOut
    on_hand_mg: Decimal
    outstanding_mg: Decimal


class LotOut(Schema):
    id: int
    drug: Drug
    product: str
    supplier: str
    lot_number: str
    mg_per_vial: Decimal
    ml_per_vial: Decimal
    expires_on: dt.date
    received_mg: Decimal
    on_hand_mg: Decimal
    drawn_outstanding_mg: Decimal
    last_count_at: dt.datetime | None
    last_count_flagged: bool | None


class LotLedgerOut(Schema):
    lot: LotOut
    lines: list[LedgerLineOut]


class SessionLogOut(Schema):
    session_id: int
    delivered_mg: Decimal | None
    administered_mg: Decimal
    open_draws: dict[int, Decimal]
    entries: list[EntryOut]


class ReceiveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    drug: Drug
    product: str = Field(min_length=1, max_length=100)
    supplier: str = Field(min_length=1, max_length=150)
    lot_number: str = Field(min_length=1, max_length=40)
    mg_per_vial: Decimal = Field(**MG)
    ml_per_vial: Decimal = Field(gt=0, max_digits=6, decimal_places=2)
    vials: int = Field(gt=0, le=100_000)
    expires_on: dt.date
    reason: str = Field("", max_length=300)


class DrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lot_id: int
    quantity_mg: Decimal = Field(**MG)
    reason: str = Field("", max_length=300)


class AdministerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    draw_id: int
    quantity_mg: Decimal | None = Field(
        None, description="Omit to log what the administration record shows delivered.", **MG
    )


class Witnessed(Schema):
    model_config = ConfigDict(extra="forbid")

    witness_username: str = Field(min_length=1, max_length=150)
    witness_password: str = Field(min_length=1, max_length=200)


class WitnessFieldError(Schema):
    field: str
    message: str


class WitnessThrottledOut(Schema):
    """429: too many wrong passwords for this witness lately; try again later."""

    message: str
    errors: list[WitnessFieldError]


WITNESS_THROTTLED = {429: WitnessThrottledOut}


class WasteIn(Witnessed):
    draw_id: int
    quantity_mg: Decimal = Field(**MG)
    reason: str = Field("", max_length=300)


class StockWasteIn(Witnessed):
    quantity_mg: Decimal = Field(**MG)
    reason: str = Field(min_length=1, max_length=300)


class CountIn(Witnessed):
    full_vials: int = Field(ge=0, le=100_000)
    partial_ml: Decimal = Field(Decimal(0), ge=0, max_digits=6, decimal_places=2)
    reason: str = Field("", max_length=300)


class CountOut(Schema):
    entry: EntryOut
    flagged: bool
    message: str


def lot_out(summary: services.LotSummary) -> dict:
    lot, balance = summary.lot, summary.balance
    return {
        "id": lot.pk,
        "drug": lot.drug,
        "product": lot.product,
        "supplier": lot.supplier,
        "lot_number": lot.lot_number,
        "mg_per_vial": lot.mg_per_vial,
        "ml_per_vial": lot.ml_per_vial,
        "expires_on": lot.expires_on,
        "received_mg": balance.received_mg,
        "on_hand_mg": balance.on_hand_mg,
        "drawn_outstanding_mg": sum((d.outstanding_mg for d in summary.open_draws), Decimal(0)),
        "last_count_at": summary.last_count.at if summary.last_count else None,
        "last_count_flagged": summary.last_count.flagged if summary.last_count else None,
    }


def signed_witness(request, payload: Witnessed, action: str) -> User:
    """The witness, once their password signs the entry.

    422 naming the field for an unknown witness or a wrong password; 429 while the witness
    is throttled after too many wrong passwords.
    """
    witness = User.objects.filter(username=payload.witness_username, is_active=True).first()
    if witness is None:
        error = ValidationError({"witness_password": "The witness's name or password is wrong."})
        trail.record(
            action=action,
            request=request,
            outcome=Outcome.INVALID,
            detail={"errors": error.message_dict},
        )
        raise error
    try:
        verification.verify_password(
            request,
            verifier=witness,
            password=payload.witness_password,
            purpose=action,
            field="witness_password",
            role="the witness",
        )
    except verification.VerificationThrottled as error:
        raise HttpError(error.status_code, error.messages[0]) from None
    return witness


def entry_of(model, pk: int, **filters):
    found = model.objects.filter(pk=pk, **filters).first()
    if found is None:
        raise Http404
    return found


@router.get("/lots", response=list[LotOut], summary="Lots and their balances")
def list_lots(request):
    staff_only(request, "inventory.view")
    trail.record(action="inventory.view", request=request, detail={"page": "api.lots"})
    return [lot_out(s) for s in services.lot_summaries(Lot.objects.all())]


@router.get("/lots/{int:lot_id}", response=LotLedgerOut, summary="A lot's ledger")
def get_lot(request, lot_id: int):
    lot = access_lot(request, lot_id, "inventory.view")
    lines, _ = services.lot_ledger(lot)
    trail.record(action="inventory.view", request=request, target=lot, detail={"page": "api"})
    (summary,) = services.lot_summaries([lot])
    return {"lot": lot_out(summary), "lines": lines}


@router.post("/receipts", response={201: EntryOut}, summary="Receive whole vials of a lot")
def receive(request, payload: ReceiveIn):
    staff_only(request, "inventory.record")
    return Reply(201, services.lot_receive(request=request, **payload.dict()))


@router.post(
    "/lots/{int:lot_id}/wastes",
    response={201: EntryOut, **WITNESS_THROTTLED},
    summary="Waste stock",
)
def waste_stock(request, lot_id: int, payload: StockWasteIn):
    lot = access_lot(request, lot_id, "inventory.record")
    witness = signed_witness(request, payload, "inventory.waste")
    entry = services.waste_record(
        request=request,
        lot=lot,
        quantity_mg=payload.quantity_mg,
        witness=witness,
        reason=payload.reason,
    )
    return Reply(201, entry)


@router.post(
    "/lots/{int:lot_id}/counts",
    response={201: CountOut, **WITNESS_THROTTLED},
    summary="Count a lot",
)
def count(request, lot_id: int, payload: CountIn):
    lot = access_lot(request, lot_id, "inventory.count")
    witness = signed_witness(request, payload, "inventory.count")
    entry, result = services.count_record(
        request=request,
        lot=lot,
        full_vials=payload.full_vials,
        partial_ml=payload.partial_ml,
        witness=witness,
        reason=payload.reason,
    )
    return Reply(201, {"entry": entry, "flagged": result.flagged, "message": result.message})


@router.get("/sessions/{int:session_id}", response=SessionLogOut, summary="A session's entries")
def session_log(request, session_id: int):
    session = access_session(request, session_id, "inventory.view")
    log = services.session_log(session)
    trail.record(
        action="inventory.view",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"page": "api.session"},
    )
    return {
        "session_id": session.pk,
        "delivered_mg": log.delivered_mg,
        "administered_mg": log.administered_mg,
        "open_draws": {d.draw.pk: d.outstanding_mg for d in log.open_draws},
        "entries": log.entries,
    }


@router.post("/sessions/{int:session_id}/draws", response={201: EntryOut})
def draw(request, session_id: int, payload: DrawIn):
    session = access_session(request, session_id, "inventory.record")
    lot = entry_of(Lot, payload.lot_id)
    entry = services.draw_record(
        request=request,
        session=session,
        lot=lot,
        quantity_mg=payload.quantity_mg,
        reason=payload.reason,
    )
    return Reply(201, entry)


@router.post("/sessions/{int:session_id}/administrations", response={201: EntryOut})
def administer(request, session_id: int, payload: AdministerIn):
    session = access_session(request, session_id, "inventory.record")
    drawn = entry_of(LedgerEntry, payload.draw_id, session=session, kind=EntryKind.DRAW)
    entry = services.administer_record(request=request, draw=drawn, quantity_mg=payload.quantity_mg)
    return Reply(201, entry)


@router.post("/sessions/{int:session_id}/wastes", response={201: EntryOut, **WITNESS_THROTTLED})
def waste(request, session_id: int, payload: WasteIn):
    session = access_session(request, session_id, "inventory.record")
    drawn = entry_of(LedgerEntry, payload.draw_id, session=session, kind=EntryKind.DRAW)
    witness = signed_witness(request, payload, "inventory.waste")
    entry = services.waste_record(
        request=request,
        draw=drawn,
        quantity_mg=payload.quantity_mg,
        witness=witness,
        reason=payload.reason,
    )
    return Reply(201, entry)
