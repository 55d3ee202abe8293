"""Charges over the API: the coding calculator, a patient's charges, confirmation, payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.charting.access import access_session
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.scheduling.models import Appointment
from ketaclinic.web.json_errors import ApiError

from . import charges, charges_visits, coding, fee_schedule, payments
from .models import ChargeLine, EsketamineSupply, PaymentMethod

router = Router(tags=["charges"])


class CodeSessionIn(Schema):
    """A session as billing sees it: route, dose delivered and (IV) minutes the pump ran."""

    model_config = ConfigDict(extra="forbid")

    route: str = Field(description="esketamine, iv or im")
    delivered_dose_mg: float = Field(description="Dose actually delivered, mg (not planned)")
    infusion_minutes: float | None = Field(
        None, description="IV only: minutes the infusion ran (pauses excluded)"
    )


class CodedLineOut(Schema):
    code: str
    units: int


class CodeSessionOut(Schema):
    lines: list[CodedLineOut]


@router.post(
    "/billing/code-session",
    response=CodeSessionOut,
    summary="The procedure/visit codes a session earns (no drug line, no E/M; no record)",
)
def code_session(request, payload: CodeSessionIn):
    require_permission(request, "charges.calculate")
    try:
        lines = coding.procedure_lines(
            payload.route, payload.delivered_dose_mg, payload.infusion_minutes
        )
    except coding.CodingError as error:
        trail.record(
            action="charges.code_session",
            request=request,
            outcome=Outcome.INVALID,
            detail={"field": error.field, "message": error.message},
        )
        raise ValidationError({error.field: error.message}) from None
    out = [{"code": line.code, "units": line.units} for line in lines]
    trail.record(action="charges.code_session", request=request, detail={"lines": out})
    return {"lines": out}


class ChargeLineOut(Schema):
    id: int
    session_id: int | None
    appointment_id: int | None
    service_date: dt.date
    place_of_service: str
    code: str
    modifiers: str
    units: int
    unit_price: Decimal
    amount: Decimal
    basis: str
    drug_mg: Decimal | None
    ndc: str
    lot_number: str
    diagnoses: list[str]
    status: str
    reverses_id: int | None
    confirmed_at: dt.datetime | None


class BalanceOut(Schema):
    charged: Decimal = Field(description="Confirmed lines (reversals included)")
    pending: Decimal = Field(description="Lines awaiting a clinician's confirmation")
    paid: Decimal
    due: Decimal


class PatientChargesOut(Schema):
    lines: list[ChargeLineOut]
    balance: BalanceOut


def balance_out(balance: charges.Balance) -> dict:
    cents = Decimal("0.01")
    return {
        "charged": balance.charged.quantize(cents),
        "pending": balance.pending.quantize(cents),
        "paid": balance.paid.quantize(cents),
        "due": balance.due.quantize(cents),
    }


@router.get(
    "/patients/{int:patient_id}/charges",
    response=PatientChargesOut,
    summary="The patient's charge lines (made from discharged sessions) and balance",
)
def patient_charges(request, patient_id: int):
    patient = access_patient(request, patient_id, "charges.view", section="api.charges")
    charges.charges_ensure_for_patient(patient)
    return {
        "lines": list(charges.lines_of(patient)),
        "balance": balance_out(charges.balance_of(patient)),
    }


class ConfirmChargesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    diagnoses: list[str] | None = Field(
        None,
        max_length=4,
        description="ICD-10-CM codes on the patient's record, in pointer order (A-D); "
        "default: the ones proposed",
    )


class ConfirmedChargesOut(Schema):
    lines: list[ChargeLineOut]


@router.post(
    "/sessions/{int:session_id}/charges/confirm",
    response={200: ConfirmedChargesOut, 409: ApiError},
    summary="A clinician confirms the session's charge lines and diagnosis pointers",
)
def confirm_charges(request, session_id: int, payload: ConfirmChargesIn):
    session = access_session(request, session_id, "charges.confirm")
    try:
        lines = charges.charges_confirm(
            request=request, session=session, by=request.user, diagnoses=payload.diagnoses
        )
    except charges.ChargeConflict as conflict:
        message = conflict.message
        return Reply(
            409, {"message": message, "errors": [{"field": conflict.field, "message": message}]}
        )
    return {"lines": lines}


class PaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=9, decimal_places=2)
    method: PaymentMethod
    received_on: dt.date
    reference: str = Field("", max_length=60)


class PaymentOut(Schema):
    id: int
    amount: Decimal
    method: str
    received_on: dt.date
    reference: str


@router.post(
    "/patients/{int:patient_id}/payments",
    response={201: PaymentOut},
    summary="Record a payment the patient made (self-pay)",
)
def record_payment(request, patient_id: int, payload: PaymentIn):
    patient = access_patient(request, patient_id, "payment.record")
    payment = payments.payment_record(
        request=request,
        patient=patient,
        by=request.user,
        amount=payload.amount,
        method=payload.method,
        received_on=payload.received_on,
        reference=payload.reference,
    )
    return Reply(201, payment)


class FeeOut(Schema):
    code: str
    meaning: str
    amount: Decimal
    ndc: str

    @staticmethod
    def resolve_meaning(obj) -> str:
        return coding.CODE_BOOK[obj.code].meaning if obj.code in coding.CODE_BOOK.codes else ""


class FeeScheduleOut(Schema):
    version: int
    esketamine_supply: str
    note: str
    created_at: dt.datetime
    fees: list[FeeOut]

    @staticmethod
    def resolve_fees(obj) -> list:
        return list(obj.fees.all())


@router.get(
    "/billing/fee-schedule",
    response=FeeScheduleOut,
    summary="The clinic's current fee schedule (prices are clinic policy)",
)
def get_fee_schedule(request):
    require_permission(request, "fee_schedule.view")
    schedule = fee_schedule.current()
    trail.record(action="fee_schedule.view", request=request, target=schedule)
    return schedule


class FeeScheduleChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    amounts: dict[str, Decimal] = Field(
        default_factory=dict, max_length=50, description="Code -> new price (0.00 or more)"
    )
    ndcs: dict[str, str] = Field(default_factory=dict, max_length=50)
    esketamine_supply: EsketamineSupply | None = None
    note: str = Field("", max_length=300)


@router.post(
    "/billing/fee-schedule",
    response={201: FeeScheduleOut},
    summary="Change prices: a new fee-schedule version (the old one is kept)",
)
def change_fee_schedule(request, payload: FeeScheduleChangeIn):
    require_permission(request, "fee_schedule.edit")
    unknown = sorted(set(payload.ndcs) - set(coding.CODE_BOOK.codes))
    if unknown:
        raise ValidationError({"ndcs": f"{unknown[0]} is not a code the clinic bills"})
    if any(len(ndc) > 20 for ndc in payload.ndcs.values()):
        raise ValidationError({"ndcs": "an NDC has at most 20 characters"})
    schedule = fee_schedule.fee_schedule_change(
        request=request,
        by=request.user,
        amounts=payload.amounts,
        ndcs=payload.ndcs,
        esketamine_supply=payload.esketamine_supply,
        note=payload.note,
    )
    return Reply(201, schedule)


class CorrectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=300)
    code: str | None = Field(None, max_length=10)
    units: int | None = Field(None, ge=1, le=10000)
    modifiers: str | None = Field(None, max_length=20)


class CorrectionOut(Schema):
    reversal: ChargeLineOut
    replacement: ChargeLineOut


@router.post(
    "/charges/{int:line_id}/correct",
    response={201: CorrectionOut, 409: ApiError},
    summary="Correct a confirmed line: it is reversed and a new proposed line replaces it",
)
def correct_charge(request, line_id: int, payload: CorrectionIn):
    line = ChargeLine.objects.filter(pk=line_id).first()
    if line is None:
        refuse(request, None, "charges.correct", f"no charge line {line_id}")
        raise Http404("No such charge line.")
    access_patient(request, line.patient_id, "charges.correct")
    try:
        reversal, replacement = charges.charge_correct(
            request=request,
            line=line,
            by=request.user,
            correction=charges.Correction(payload.code, payload.units, payload.modifiers),
            reason=payload.reason,
        )
    except charges.ChargeConflict as conflict:
        message = conflict.message
        return Reply(
            409, {"message": message, "errors": [{"field": conflict.field, "message": message}]}
        )
    return Reply(201, {"reversal": reversal, "replacement": replacement})


class VisitChargeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        None, max_length=10, description="The E/M or psychotherapy code; default: from minutes"
    )
    minutes: float | None = Field(None, description="Time spent, when recorded")
    diagnoses: list[str] | None = Field(None, max_length=4)


@router.post(
    "/appointments/{int:appointment_id}/charges",
    response={201: ChargeLineOut, 409: ApiError},
    summary="Bill a consultation or integration visit: the clinician's E/M or psychotherapy code",
)
def add_visit_charge(request, appointment_id: int, payload: VisitChargeIn):
    appointment = (
        Appointment.objects.select_related("type", "patient").filter(pk=appointment_id).first()
    )
    if appointment is None:
        refuse(request, None, "charges.visit", f"no appointment {appointment_id}")
        raise Http404("No such visit.")
    access_patient(request, appointment.patient_id, "charges.visit")
    try:
        line = charges_visits.visit_charge_add(
            request=request,
            appointment=appointment,
            by=request.user,
            code=payload.code,
            minutes=payload.minutes,
            diagnoses=payload.diagnoses,
        )
    except charges.ChargeConflict as conflict:
        message = conflict.message
        return Reply(
            409, {"message": message, "errors": [{"field": conflict.field, "message": message}]}
        )
    return Reply(201, line)
