"""E/M and psychotherapy lines for consultation and integration visits.

The level is the clinician's choice (REFERENCE.md 8.1: "by medical decision making or
time"). When the clinician gives the minutes spent and they reach a code's minimum, the code
is proposed from them (``coding.propose_em`` / ``coding.propose_psychotherapy``); otherwise
the clinician must name the code, and the request asks for it (422 on ``code``). The chosen
line is confirmed at once by the clinician who chose it, pointing at the diagnoses given
(default: the patient's recorded ones).

"New patient" here means no earlier completed visit at this clinic; CPT's own definition
(no professional service within three years) is wider, which the clinician can override by
naming the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.scheduling.models import Appointment, Status

from . import charges, coding, fee_schedule
from .models import ChargeLine, ChargeStatus

EM_VISITS = frozenset({"consultation", "screening_visit", "follow_up"})
PSYCHOTHERAPY_VISITS = frozenset({"integration_therapy"})


def is_new_patient(appointment: Appointment) -> bool:
    return not (
        Appointment.objects.filter(
            patient_id=appointment.patient_id,
            status=Status.COMPLETED,
            starts_at__lt=appointment.starts_at,
        )
        .exclude(pk=appointment.pk)
        .exists()
    )


def allowed_codes(appointment: Appointment) -> tuple[str, ...]:
    rules = coding.CODE_BOOK.rules
    kind = appointment.type.code
    if kind in PSYCHOTHERAPY_VISITS:
        return tuple(str(c) for c in rules["psychotherapy"]["minimum_minutes"])
    if kind in EM_VISITS:
        table = (
            "new_patient_minimum_minutes"
            if is_new_patient(appointment)
            else "established_minimum_minutes"
        )
        return tuple(str(c) for c in rules["evaluation_and_management"][table])
    return ()


def proposal(appointment: Appointment, minutes) -> coding.Proposal:
    if appointment.type.code in PSYCHOTHERAPY_VISITS:
        return coding.propose_psychotherapy(minutes)
    return coding.propose_em(is_new_patient(appointment), minutes)


def visit_charge_add(
    *,
    request,
    appointment: Appointment,
    by,
    code: str | None = None,
    minutes=None,
    diagnoses: Sequence[str] | None = None,
) -> ChargeLine:
    """The visit's E/M or psychotherapy line, chosen (or proposed from time) and confirmed."""
    chosen, proposed = _choose_code(appointment, code, minutes)
    codes = charges.checked_diagnoses(
        appointment.patient,
        diagnoses if diagnoses is not None else charges.default_diagnoses(appointment.patient),
    )
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        live = ChargeLine.objects.filter(appointment=locked, reverses__isnull=True).exclude(
            reversed_by__isnull=False
        )
        if live.exists():
            raise charges.ChargeConflict(
                "appointment", f"The visit is already billed ({live.first().code})."
            )
        line = _confirmed_line(locked, chosen, proposed, codes, by)
        trail.record(
            action="charges.visit",
            request=request,
            actor=by,
            patient_id=locked.patient_id,
            target=locked,
            detail={"code": chosen, "minutes": str(minutes) if minutes is not None else None},
        )
    return line


def _choose_code(
    appointment: Appointment, code: str | None, minutes
) -> tuple[str, coding.Proposal]:
    """The code to bill (the clinician's, else the one the minutes reach) and the proposal;
    ValidationError when the visit is not billable this way or no allowed code is chosen."""
    if appointment.status != Status.COMPLETED:
        raise ValidationError({"appointment": "Only a completed visit is billed."})
    allowed = allowed_codes(appointment)
    if not allowed:
        raise ValidationError(
            {"appointment": f"A {appointment.type.name} visit is billed from its session."}
        )
    try:
        proposed = proposal(appointment, minutes)
    except coding.CodingError as error:
        raise ValidationError({error.field: error.message}) from None
    chosen = code or proposed.code
    if chosen is None:
        raise ValidationError({"code": f"Choose the code: {proposed.basis}."})
    if chosen not in allowed:
        raise ValidationError({"code": f"For this visit choose one of {', '.join(allowed)}."})
    return chosen, proposed


def _confirmed_line(
    appointment: Appointment, chosen: str, proposed: coding.Proposal, diagnoses: list[str], by
) -> ChargeLine:
    """The line at the current fee schedule's price, confirmed by the clinician who chose it."""
    schedule = fee_schedule.current()
    fee = fee_schedule.prices(schedule).get(chosen)
    price = fee.amount if fee else Decimal("0.00")
    basis = (
        proposed.basis if chosen == proposed.code else f"chosen by the clinician ({proposed.basis})"
    )
    return ChargeLine.objects.create(
        patient=appointment.patient,
        appointment=appointment,
        service_date=timezone.localtime(appointment.starts_at).date(),
        place_of_service=charges.OFFICE,
        code=chosen,
        units=1,
        unit_price=price,
        amount=price,
        basis=basis[:300],
        diagnoses=diagnoses,
        rendering_provider=by,
        fee_schedule=schedule,
        status=ChargeStatus.CONFIRMED,
        confirmed_by=by,
        confirmed_at=timezone.now(),
    )
