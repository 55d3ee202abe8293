"""The controlled-substance log replayed through the pure ledger: rows in, balances out.

Names in the pure ledger: a lot is its lot number (one lot is replayed at a time), a draw
is ``#<id>``, a person is ``user:<id>`` (so "the same person" is the same account).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from . import ledger
from .models import EntryKind, LedgerEntry, Lot


def person(user_id: int | None) -> str:
    return f"user:{user_id}" if user_id is not None else ""


def draw_key(entry_id: int) -> str:
    """The ledger name of an entry (a draw is looked up by it afterwards)."""
    return f"#{entry_id}"


def to_pure(row: LedgerEntry, lot: Lot, entry_id: str | None = None) -> ledger.Entry | None:
    """The ledger entry ``row`` stands for; ``None`` for a count (it moves no drug)."""
    key = entry_id or draw_key(row.pk)
    by = person(row.by_id)
    if row.kind == EntryKind.RECEIVE:
        return ledger.Receive(key, lot.lot_number, row.vials, lot.mg_per_vial, lot.ml_per_vial, by)
    if row.kind == EntryKind.DRAW:
        return ledger.Draw(key, lot.lot_number, row.quantity_mg, str(row.session_id), by)
    if row.kind == EntryKind.ADMINISTER:
        return ledger.Administer(key, draw_key(row.draw_id), row.quantity_mg, by)
    if row.kind == EntryKind.WASTE:
        return ledger.Waste(
            key,
            row.quantity_mg,
            by,
            person(row.witness_id),
            draw_id=draw_key(row.draw_id) if row.draw_id else None,
            lot=None if row.draw_id else lot.lot_number,
            reason=row.reason,
        )
    return None


def replay(lot: Lot, rows: Iterable[LedgerEntry]) -> ledger.LedgerState:
    """The lot's balances after ``rows`` (its entries, oldest first)."""
    state = ledger.EMPTY
    for row in rows:
        pure = to_pure(row, lot)
        if pure is not None:
            state = ledger.apply(state, pure)
    return state


def lot_state(lot: Lot) -> ledger.LedgerState:
    return replay(lot, LedgerEntry.objects.for_lot(lot))


def states_of(lots: Iterable[Lot]) -> dict[int, ledger.LedgerState]:
    """Each lot's balances, from one query."""
    lots = {lot.pk: lot for lot in lots}
    rows: dict[int, list[LedgerEntry]] = defaultdict(list)
    for row in LedgerEntry.objects.filter(lot__in=lots).order_by("id"):
        rows[row.lot_id].append(row)
    return {pk: replay(lot, rows[pk]) for pk, lot in lots.items()}
