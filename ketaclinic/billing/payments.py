"""Payments a patient made to the clinic (self-pay): amount, method, date; audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.patients.models import Patient

from .models import Payment, PaymentMethod

MAX_PAYMENT = Decimal("9999999.99")


def checked_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": "must be an amount such as 150.00"}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_PAYMENT:
        raise ValidationError({"amount": f"must be more than 0.00 and at most {MAX_PAYMENT}"})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": "at most two decimal places"})
    return amount


def payment_record(
    *,
    request=None,
    patient: Patient,
    by,
    amount,
    method: str,
    received_on: dt.date,
    reference: str = "",
) -> Payment:
    amount = checked_amount(amount)
    if method not in PaymentMethod.values:
        raise ValidationError({"method": f"must be one of {', '.join(PaymentMethod.values)}"})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": "A payment cannot be received in the future."})
    if received_on < patient.date_of_birth:
        raise ValidationError({"received_on": "A payment cannot predate the patient's birth."})
    with transaction.atomic():
        payment = Payment.objects.create(
            patient=patient,
            amount=amount,
            method=method,
            received_on=received_on,
            reference=reference.strip()[:60],
            recorded_by=by,
        )
        trail.record(
            action="payment.record",
            request=request,
            actor=by,
            patient=patient,
            target=payment,
            detail={"amount": str(amount), "method": method, "received_on": str(received_on)},
        )
    return payment
