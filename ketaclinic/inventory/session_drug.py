"""A session's drug as the log and the chart see it: delivered, administered, left in a draw.

What was delivered is the chart's own total, so the log and the chart cannot disagree
about what was given.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from ketaclinic.charting import administration, administration_service
from ketaclinic.charting.models import TreatmentSession

from .models import EntryKind, LedgerEntry


def delivered_in_session(session: TreatmentSession) -> Decimal:
    """Total drug the session's administration record shows delivered (so far).

    The chart's own total (``charting.administration_service.session_delivered``), so the log
    and the chart cannot disagree about what was given.
    """
    try:
        return administration_service.session_delivered(session).total_mg
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
