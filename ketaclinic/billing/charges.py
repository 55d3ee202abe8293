"""Charge lines from what was charted, their confirmation and correction, and the balance.

**When lines are made.** Lazily, by :func:`charges_ensure`, which every billing read and
write calls first (the patient's charges, a superbill, the export, confirmation). A discharge
hook in charting was the other choice; it would miss every session discharged before billing
existed, sessions the demo builds in bulk, and any future path to "discharged" that forgets
the hook. The lazy path cannot miss one: whatever is discharged is coded the first time
billing looks at it, exactly once (``SessionCharges`` is one row per session, unique, so two
readers at once make one set of lines).

**What they are made from.** The delivered dose and the pump's running minutes from
charting's administration record (``administration_service.session_delivered``), the
esketamine devices given, the session's product and lot, and the current fee-schedule
version's prices. Never the planned dose.

**Confirmed lines never change.** A database trigger refuses any update of a confirmed
line (and, on PostgreSQL, its deletion; no code deletes charge lines); a correction (:func:`charge_correct`) is a confirmed reversal with negative
units and amount, plus a new proposed line for the clinician to confirm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.charting import administration_service, session_service
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.patients.models import Diagnosis, Patient

from . import coding, fee_schedule
from .models import ChargeLine, ChargeStatus, Payment, SessionCharges

OFFICE = "11"
MAX_POINTERS = 4  # CMS-1500 item 24E: up to four diagnosis pointers per line


class ChargeConflict(Exception):
    """The request conflicts with the charges' state; ``field`` and ``message`` say how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Making lines ----------------------------------------------------------------------------


def session_coded_lines(
    session: TreatmentSession, supply: str, ndcs: dict[str, str]
) -> list[coding.CodedLine]:
    """The procedure/visit lines and the drug line the charted session earns."""
    total = administration_service.session_delivered(session)
    route = session.route
    if route not in coding.ROUTES:
        return []
    mg = total.esketamine_mg if route == "esketamine" else total.total_mg
    try:
        lines = list(
            coding.procedure_lines(
                route, mg, total.infusion_running_minutes if route == "iv" else None
            )
        )
    except coding.CodingError:
        return []  # nothing was given (no device, a pump that never ran): nothing to bill
    drug_code = (
        coding.CODE_BOOK.rule("drug")["esketamine_buy_and_bill_code"]
        if route == "esketamine"
        else coding.CODE_BOOK.rule("drug")["ketamine_code"]
    )
    drug = coding.drug_line(route, mg, supply=supply, ndc=ndcs.get(drug_code, ""))
    if drug is not None:
        lines.append(drug)
    return lines


def default_diagnoses(patient: Patient) -> list[str]:
    """The patient's recorded ICD-10-CM codes, newest first, at most four (to be confirmed)."""
    codes: list[str] = []
    for code in (
        Diagnosis.objects.valid().filter(patient=patient).values_list("icd10_code", flat=True)
    ):
        if code not in codes:
            codes.append(code)
    return codes[:MAX_POINTERS]


def rendering_provider(session: TreatmentSession):
    return session.prescriber_on_site or session.plan.signed_by


def _make(session: TreatmentSession) -> list[ChargeLine]:
    schedule = fee_schedule.current()
    fees = fee_schedule.prices(schedule)
    ndcs = {code: fee.ndc for code, fee in fees.items()}
    coded = session_coded_lines(session, schedule.esketamine_supply, ndcs)
    day = session_service.session_day(session)
    diagnoses = default_diagnoses(session.patient)
    provider = rendering_provider(session)
    rows = []
    for line in coded:
        price = fees[line.code].amount if line.code in fees else Decimal("0.00")
        is_drug = line.drug_mg is not None
        rows.append(
            ChargeLine(
                patient=session.patient,
                session=session,
                service_date=day,
                place_of_service=OFFICE,
                code=line.code,
                units=line.units,
                unit_price=price,
                amount=price * line.units,
                basis=line.basis[:300],
                drug_mg=line.drug_mg,
                ndc=line.ndc,
                product=session.product if is_drug else "",
                lot_number=session.lot_number if is_drug else "",
                diagnoses=diagnoses,
                rendering_provider=provider,
                fee_schedule=schedule,
            )
        )
    return ChargeLine.objects.bulk_create(rows)


def charges_ensure(session: TreatmentSession) -> bool:
    """Make the session's lines if it is discharged and has none yet; True when made now."""
    if session.status != SessionStatus.DISCHARGED:
        return False
    if SessionCharges.objects.filter(session=session).exists():
        return False
    try:
        with transaction.atomic():
            SessionCharges.objects.create(session=session)
            lines = _make(session)
            trail.record(
                action="charges.make",
                patient_id=session.patient_id,
                target=session,
                detail={"codes": [f"{line.code} x{line.units}" for line in lines]},
            )
    except IntegrityError:  # made by a concurrent reader; one set of lines either way
        return False
    return True


def _pending_sessions():
    return (
        TreatmentSession.objects.filter(status=SessionStatus.DISCHARGED, charges_made__isnull=True)
        .select_related("patient", "plan__signed_by", "prescriber_on_site")
        .order_by("discharged_at", "id")
    )


def charges_ensure_for_patient(patient: Patient) -> int:
    return sum(charges_ensure(s) for s in _pending_sessions().filter(patient=patient))


def charges_ensure_between(first: dt.date, last: dt.date) -> int:
    """Every session discharged from ``first`` to ``last`` (clinic days, a day either side
    for time zones) gets its lines before an export or a date-range superbill."""
    start = timezone.make_aware(dt.datetime.combine(first - dt.timedelta(days=1), dt.time()))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=2), dt.time()))
    sessions = _pending_sessions().filter(discharged_at__gte=start, discharged_at__lt=end)
    return sum(charges_ensure(s) for s in sessions)


# --- Confirming and correcting ------------------------------------------------------------


def checked_diagnoses(patient: Patient, diagnoses: Sequence[str]) -> list[str]:
    """The ICD-10 codes a charge line points at: each on the patient's record, at least one."""
    codes = [code.strip().upper() for code in diagnoses]
    if not codes:
        raise ValidationError({"diagnoses": "Point each line at one diagnosis at least."})
    if len(codes) > MAX_POINTERS:
        raise ValidationError({"diagnoses": f"A line points at {MAX_POINTERS} diagnoses at most."})
    if len(set(codes)) != len(codes):
        raise ValidationError({"diagnoses": "A diagnosis is listed twice."})
    recorded = set(
        Diagnosis.objects.valid().filter(patient=patient).values_list("icd10_code", flat=True)
    )
    missing = [code for code in codes if code not in recorded]
    if missing:
        raise ValidationError(
            {"diagnoses": f"{', '.join(missing)} is not a diagnosis on the patient's record."}
        )
    return codes


def charges_confirm(
    *, request, session: TreatmentSession, by, diagnoses: Sequence[str] | None = None
) -> list[ChargeLine]:
    """A clinician confirms the session's proposed lines and their diagnosis pointers."""
    charges_ensure(session)
    with transaction.atomic():
        proposed = list(
            ChargeLine.objects.select_for_update()
            .filter(session=session, status=ChargeStatus.PROPOSED)
            .order_by("id")
        )
        if not proposed:
            confirmed = ChargeLine.objects.filter(session=session).count()
            raise ChargeConflict(
                "session",
                f"Nothing to confirm: the session's {confirmed} line(s) are already confirmed."
                if confirmed
                else "Nothing to confirm: the session has no charge lines.",
            )
        codes = checked_diagnoses(
            session.patient, diagnoses if diagnoses is not None else proposed[0].diagnoses
        )
        moment = timezone.now()
        for line in proposed:
            line.status = ChargeStatus.CONFIRMED
            line.diagnoses = codes
            line.confirmed_by = by
            line.confirmed_at = moment
            line.save(update_fields=["status", "diagnoses", "confirmed_by", "confirmed_at"])
        trail.record(
            action="charges.confirm",
            request=request,
            actor=by,
            patient_id=session.patient_id,
            target=session,
            detail={"lines": [line.pk for line in proposed], "diagnoses": codes},
        )
    return proposed


@dataclass(frozen=True)
class Correction:
    code: str | None = None
    units: int | None = None
    modifiers: str | None = None


def charge_correct(*, request, line: ChargeLine, by, correction: Correction, reason: str):
    """Reverse a confirmed line and propose its replacement; the original stays as it was."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the line is corrected."})
    if correction.code is not None and correction.code not in coding.CODE_BOOK.codes:
        raise ValidationError({"code": f"{correction.code} is not a code the clinic bills."})
    if correction.units is not None and not 1 <= correction.units <= 10000:
        raise ValidationError({"units": "must be from 1 to 10000"})
    with transaction.atomic():
        locked = ChargeLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != ChargeStatus.CONFIRMED:
            raise ChargeConflict("line", "Only a confirmed line is corrected; edit by confirming.")
        if ChargeLine.objects.filter(reverses=locked).exists():
            raise ChargeConflict("line", f"Line {locked.pk} was already reversed.")
        moment = timezone.now()
        reversal = _copy(locked, units=-locked.units, amount=-locked.amount)
        reversal.reverses = locked
        reversal.status = ChargeStatus.CONFIRMED
        reversal.confirmed_by = by
        reversal.confirmed_at = moment
        reversal.basis = f"Reverses line {locked.pk}: {reason.strip()}"[:300]
        reversal.save()
        code = correction.code or locked.code
        units = correction.units or locked.units
        price = locked.unit_price
        if code != locked.code:
            fees = fee_schedule.prices(fee_schedule.current())
            price = fees[code].amount if code in fees else Decimal("0.00")
        replacement = _copy(locked, units=units, amount=price * units)
        replacement.code = code
        replacement.unit_price = price
        replacement.modifiers = (
            correction.modifiers if correction.modifiers is not None else locked.modifiers
        )[:20]
        replacement.basis = f"Corrects line {locked.pk}: {reason.strip()}"[:300]
        replacement.save()
        trail.record(
            action="charges.correct",
            request=request,
            actor=by,
            patient_id=locked.patient_id,
            target=locked,
            detail={"reversal": reversal.pk, "replacement": replacement.pk, "reason": reason},
        )
    return reversal, replacement


def _copy(line: ChargeLine, *, units: int, amount: Decimal) -> ChargeLine:
    return ChargeLine(
        patient_id=line.patient_id,
        session_id=line.session_id,
        appointment_id=line.appointment_id,
        service_date=line.service_date,
        place_of_service=line.place_of_service,
        code=line.code,
        modifiers=line.modifiers,
        units=units,
        unit_price=line.unit_price,
        amount=amount,
        drug_mg=line.drug_mg,
        ndc=line.ndc,
        product=line.product,
        lot_number=line.lot_number,
        diagnoses=list(line.diagnoses),
        rendering_provider_id=line.rendering_provider_id,
        fee_schedule_id=line.fee_schedule_id,
    )


# --- Reading -------------------------------------------------------------------------------


def lines_of(patient: Patient):
    return (
        ChargeLine.objects.filter(patient=patient)
        .select_related("rendering_provider", "confirmed_by", "session")
        .order_by("service_date", "id")
    )


@dataclass(frozen=True)
class Balance:
    charged: Decimal
    pending: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.charged - self.paid


def _sum(rows, field: str = "amount") -> Decimal:
    return rows.aggregate(total=Sum(field))["total"] or Decimal("0.00")


def balance_of(patient: Patient) -> Balance:
    """Confirmed charges less payments; proposed lines are shown as pending, not owed."""
    rows = ChargeLine.objects.filter(patient=patient)
    return Balance(
        charged=_sum(rows.filter(status=ChargeStatus.CONFIRMED)),
        pending=_sum(rows.filter(status=ChargeStatus.PROPOSED)),
        paid=_sum(Payment.objects.filter(patient=patient)),
    )
