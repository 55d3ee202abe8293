"""Writes to the controlled-substance log, and the balances read back from it.

Every write replays the lot's entries through the pure ``ledger.apply`` and applies the new
entry inside the same transaction, so the ledger that refuses a negative balance is the one
that decides. A refused entry writes nothing to the log, raises ``ValidationError`` naming
the field at fault, and leaves an ``invalid`` row in the audit trail.

The app's public face; the work lives by subject: ``replay`` (rows through the pure
ledger), ``entry_service`` (appending one entry), ``stock_service`` (lots received,
witnessed counts), ``draw_service`` (drawn, given, wasted for a session),
``session_drug`` (what the chart shows delivered) and ``balances`` (reading the log).
"""

from __future__ import annotations

from . import ledger
from .balances import (
    LedgerLine,
    LotSummary,
    SessionDraw,
    SessionLog,
    lot_ledger,
    lot_summaries,
    session_log,
)
from .draw_service import (
    DRAW_STATUSES,
    USE_STATUSES,
    administer_record,
    draw_record,
    waste_record,
)
from .entry_service import (
    FIELD_NAMES,
    QUANTUM,
    append_entry,
    check_witness,
    quantity,
    refused,
)
from .replay import draw_key, lot_state, person, replay, states_of, to_pure
from .session_drug import administered_in_session, delivered_in_session, draw_outstanding, show
from .stock_service import count_record, lot_receive

__all__ = [
    "DRAW_STATUSES",
    "FIELD_NAMES",
    "QUANTUM",
    "USE_STATUSES",
    "LedgerLine",
    "LotSummary",
    "SessionDraw",
    "SessionLog",
    "administer_record",
    "administered_in_session",
    "append_entry",
    "check_witness",
    "count_record",
    "delivered_in_session",
    "draw_key",
    "draw_outstanding",
    "draw_record",
    "ledger",
    "lot_ledger",
    "lot_receive",
    "lot_state",
    "lot_summaries",
    "person",
    "quantity",
    "refused",
    "replay",
    "session_log",
    "show",
    "states_of",
    "to_pure",
    "waste_record",
]
