"""The lots the controlled-substance log drew for a session, for the REMS form's lot number
when the session itself records none. Inventory registers this with charting in its
``AppConfig.ready()`` (``charting.rems_facts.register_lot_source``): charting, earlier in the
clinic's order, does not import the inventory."""

from __future__ import annotations

from .models import EntryKind, LedgerEntry

BASIS = "controlled-substance log: drawn for this session"


def lots_drawn_for(session) -> list[str]:
    """Lot numbers drawn for ``session`` in the log (a lot drawn twice is listed twice)."""
    return list(
        LedgerEntry.objects.filter(session=session, kind=EntryKind.DRAW).values_list(
            "lot__lot_number", flat=True
        )
    )
