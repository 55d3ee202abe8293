"""The log read back: each lot's balances and last count, a lot's ledger line by line, and
what one session drew, gave and wasted next to what its chart shows delivered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from ketaclinic.charting.models import TreatmentSession

from . import ledger
from .models import EntryKind, LedgerEntry, Lot
from .replay import states_of, to_pure
from .session_drug import delivered_in_session


@dataclass(frozen=True)
class LotSummary:
    lot: Lot
    balance: ledger.LotBalance
    open_draws: tuple[ledger.DrawBalance, ...]
    last_count: LedgerEntry | None

    @property
    def received_vials(self) -> Decimal:
        return self.balance.received_mg / self.lot.mg_per_vial


def lot_summaries(lots: Iterable[Lot]) -> list[LotSummary]:
    lots = list(lots)
    states = states_of(lots)
    last_counts: dict[int, LedgerEntry] = {}
    for row in (
        LedgerEntry.objects.counts()
        .filter(lot__in=lots)
        .select_related("by", "witness")
        .order_by("lot_id", "-id")
    ):
        last_counts.setdefault(row.lot_id, row)
    return [
        LotSummary(
            lot=lot,
            balance=states[lot.pk].lot(lot.lot_number),
            open_draws=tuple(d for d in ledger.open_draws(states[lot.pk])),
            last_count=last_counts.get(lot.pk),
        )
        for lot in lots
        if lot.lot_number in states[lot.pk].lots
    ]


@dataclass(frozen=True)
class LedgerLine:
    """One entry of a lot's ledger with the balances after it."""

    entry: LedgerEntry
    on_hand_mg: Decimal
    outstanding_mg: Decimal  # drawn and not yet given or wasted, across the lot

    @property
    def change_mg(self) -> Decimal:
        """How the entry moved the drug in the safe: + received, - drawn or wasted from stock."""
        kind = self.entry.kind
        if kind == EntryKind.RECEIVE:
            return self.entry.quantity_mg
        if kind == EntryKind.DRAW or (kind == EntryKind.WASTE and not self.entry.draw_id):
            return -self.entry.quantity_mg
        return Decimal(0)


def lot_ledger(lot: Lot) -> tuple[list[LedgerLine], ledger.LedgerState]:
    """The lot's entries, oldest first, each with the running balance after it."""
    lines, state = [], ledger.EMPTY
    rows = (
        LedgerEntry.objects.for_lot(lot)
        .select_related("by", "witness", "session__patient")
        .order_by("id")
    )
    for row in rows:
        pure = to_pure(row, lot)
        if pure is not None:
            state = ledger.apply(state, pure)
        balance = state.lots.get(lot.lot_number)
        outstanding = sum((d.outstanding_mg for d in state.draws.values()), Decimal(0))
        lines.append(LedgerLine(row, balance.on_hand_mg if balance else Decimal(0), outstanding))
    return lines, state


@dataclass(frozen=True)
class SessionDraw:
    draw: LedgerEntry
    administered_mg: Decimal
    wasted_mg: Decimal

    @property
    def outstanding_mg(self) -> Decimal:
        return self.draw.quantity_mg - self.administered_mg - self.wasted_mg


@dataclass(frozen=True)
class SessionLog:
    """What the log holds for one session, next to what its chart shows delivered."""

    entries: list[LedgerEntry]
    draws: list[SessionDraw]
    delivered_mg: Decimal | None
    delivered_problem: str
    administered_mg: Decimal

    @property
    def open_draws(self) -> list[SessionDraw]:
        return [d for d in self.draws if d.outstanding_mg > 0]

    @property
    def unlogged_mg(self) -> Decimal | None:
        if self.delivered_mg is None:
            return None
        return self.delivered_mg - self.administered_mg


def session_log(session: TreatmentSession) -> SessionLog:
    entries = list(LedgerEntry.objects.for_session(session).select_related("lot", "by", "witness"))
    used: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in entries:
        if row.draw_id:
            used[row.draw_id][row.kind] += row.quantity_mg
    draws = [
        SessionDraw(row, used[row.pk][EntryKind.ADMINISTER], used[row.pk][EntryKind.WASTE])
        for row in entries
        if row.kind == EntryKind.DRAW
    ]
    try:
        delivered, problem = delivered_in_session(session), ""
    except ValidationError as error:
        delivered, problem = None, " ".join(error.messages)
    administered = sum(
        (row.quantity_mg for row in entries if row.kind == EntryKind.ADMINISTER), Decimal(0)
    )
    return SessionLog(entries, draws, delivered, problem, administered)
