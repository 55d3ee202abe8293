"""The clinic's fee schedule: what each code costs here (clinic policy [U], REFERENCE.md 8.1).

The software invents no prices. The first version is seeded with every code at 0.00 ("not
set"), for the clinic to fill in; each change is a new, audited version, and every charge
line keeps the version that priced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ketaclinic.audit import trail

from .coding import CODE_BOOK
from .models import EsketamineSupply, Fee, FeeSchedule

SEED_NOTE = "Seeded: every price 0.00 until the clinic sets its own (clinic policy)."
MAX_FEE = Decimal("9999999.99")


def current() -> FeeSchedule:
    """The newest version; the seed (all prices unset) when the clinic has none yet."""
    schedule = FeeSchedule.objects.order_by("-version").first()
    if schedule is not None:
        return schedule
    try:
        with transaction.atomic():
            schedule = FeeSchedule.objects.create(version=1, note=SEED_NOTE)
            Fee.objects.bulk_create(
                Fee(schedule=schedule, code=code, amount=Decimal("0.00"))
                for code in CODE_BOOK.codes
            )
            trail.record(action="fee_schedule.seed", target=schedule, detail={"version": 1})
    except IntegrityError:  # another request seeded it first
        schedule = FeeSchedule.objects.get(version=1)
    return schedule


def prices(schedule: FeeSchedule) -> dict[str, Fee]:
    return {fee.code: fee for fee in schedule.fees.all()}


def _amount(code: str, value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({code: "must be an amount such as 150.00"}) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_FEE:
        raise ValidationError({code: f"must be between 0.00 and {MAX_FEE}"})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({code: "at most two decimal places"})
    return amount


def fee_schedule_change(
    *,
    request=None,
    by,
    amounts: Mapping[str, object],
    ndcs: Mapping[str, str] | None = None,
    esketamine_supply: str | None = None,
    note: str = "",
) -> FeeSchedule:
    """A new version: the current prices with ``amounts`` (and NDCs, supply) changed."""
    unknown = sorted(set(amounts) - set(CODE_BOOK.codes))
    if unknown:
        raise ValidationError({unknown[0]: "is not a code the clinic bills"})
    parsed = {code: _amount(code, value) for code, value in amounts.items()}
    supply = esketamine_supply
    if supply is not None and supply not in EsketamineSupply.values:
        raise ValidationError({"esketamine_supply": f"must be one of {EsketamineSupply.values}"})
    with transaction.atomic():
        before = current()
        old = prices(before)
        latest = FeeSchedule.objects.select_for_update().order_by("-version").first()
        schedule = FeeSchedule.objects.create(
            version=latest.version + 1,
            esketamine_supply=supply or before.esketamine_supply,
            note=note[:300],
            created_by=by,
        )
        new_ndcs = dict(ndcs or {})
        Fee.objects.bulk_create(
            Fee(
                schedule=schedule,
                code=code,
                amount=parsed.get(code, old[code].amount if code in old else Decimal("0.00")),
                ndc=new_ndcs.get(code, old[code].ndc if code in old else "")[:20],
            )
            for code in CODE_BOOK.codes
        )
        changed = {
            code: {"from": str(old[code].amount) if code in old else None, "to": str(amount)}
            for code, amount in parsed.items()
            if code not in old or old[code].amount != amount
        }
        trail.record(
            action="fee_schedule.change",
            request=request,
            actor=by,
            target=schedule,
            detail={
                "version": schedule.version,
                "changed": changed,
                "esketamine_supply": schedule.esketamine_supply,
                "note": schedule.note,
            },
        )
    return schedule
