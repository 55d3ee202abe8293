"""Controlled-substance ledger: every vial received, drawn, given and wasted.

Ketamine is a controlled substance (REFERENCE.md section 3, seed 004): every vial received,
drawn, given and wasted is logged, waste with a witness. This module is the pure core of
that log: :func:`apply` folds one entry into the running balance, or refuses it with a
:class:`LedgerError` and leaves the balance as it was.

Units
-----
The balance is kept in **mg** (``Decimal``), per lot. A lot is received in whole **vials**
of a stated strength (``mg_per_vial``, ``ml_per_vial``), so vials and mg are both known:
``vials_on_hand`` is ``on_hand_mg / mg_per_vial`` (a fraction means an opened vial).
Draws, administrations and waste are in mg; the chart converts a volume with the lot's
``mg_per_ml``. Floats are refused: a counted controlled drug carries no binary rounding.

Where the drug is
-----------------
- ``on_hand_mg`` of a lot: in the safe (received, not drawn, not wasted from stock).
- a draw's ``outstanding_mg``: drawn into a syringe for a session and not yet given or
  wasted. A session ends with every draw accounted for (:func:`open_draws`).

Invariants, for every lot and every state reachable through :func:`apply`:
``received_mg == on_hand_mg + drawn_mg + wasted_from_stock_mg`` and, per draw,
``drawn_mg == administered_mg + wasted_mg + outstanding_mg``, with nothing negative.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any


class LedgerError(ValueError):
    """An entry the ledger refuses; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _mg(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise LedgerError(
            field, f"{field} must be an int, Decimal or decimal string, not {value!r}"
        )
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise LedgerError(field, f"{field} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise LedgerError(field, f"{field} must be above 0, not {value!r}")
    return number


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(field, f"{field} is required")
    return value.strip()


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _show(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text} mg"


# --------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receive:
    """Whole vials of a lot arrive at the clinic."""

    entry_id: str
    lot: str
    vials: int
    mg_per_vial: Decimal
    ml_per_vial: Decimal
    by: str


@dataclass(frozen=True)
class Draw:
    """Drug drawn from a lot for a session; ``entry_id`` identifies the draw afterwards."""

    entry_id: str
    lot: str
    quantity_mg: Decimal
    session_id: str
    by: str


@dataclass(frozen=True)
class Administer:
    """Drug from a draw given to the patient."""

    entry_id: str
    draw_id: str
    quantity_mg: Decimal
    by: str


@dataclass(frozen=True)
class Waste:
    """Drug destroyed, witnessed by someone other than the person wasting it.

    Names either ``draw_id`` (the unused rest of a draw) or ``lot`` (stock: a broken or
    expired vial), not both.
    """

    entry_id: str
    quantity_mg: Decimal
    by: str
    witness: str
    draw_id: str | None = None
    lot: str | None = None
    reason: str = ""


Entry = Receive | Draw | Administer | Waste


# --------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotBalance:
    """Running totals of one lot."""

    lot: str
    mg_per_vial: Decimal
    ml_per_vial: Decimal
    received_mg: Decimal
    on_hand_mg: Decimal
    drawn_mg: Decimal = Decimal(0)
    wasted_from_stock_mg: Decimal = Decimal(0)

    @property
    def mg_per_ml(self) -> Decimal:
        """Concentration, to convert a drawn volume to mg."""
        return self.mg_per_vial / self.ml_per_vial

    @property
    def vials_on_hand(self) -> Decimal:
        """Vials in the safe; a fraction is an opened vial."""
        return self.on_hand_mg / self.mg_per_vial


@dataclass(frozen=True)
class DrawBalance:
    """What became of one draw."""

    draw_id: str
    lot: str
    session_id: str
    drawn_mg: Decimal
    administered_mg: Decimal = Decimal(0)
    wasted_mg: Decimal = Decimal(0)

    @property
    def outstanding_mg(self) -> Decimal:
        """Drawn, not yet given or wasted."""
        return self.drawn_mg - self.administered_mg - self.wasted_mg


@dataclass(frozen=True)
class LedgerState:
    """The ledger's balances after some entries. Immutable: :func:`apply` returns a new one."""

    lots: Mapping[str, LotBalance] = field(default_factory=lambda: MappingProxyType({}))
    draws: Mapping[str, DrawBalance] = field(default_factory=lambda: MappingProxyType({}))
    entry_ids: frozenset[str] = frozenset()

    def lot(self, lot: str) -> LotBalance:
        """The balance of ``lot``; :class:`LedgerError` when it was never received."""
        try:
            return self.lots[lot]
        except KeyError:
            raise LedgerError("lot", f"lot {lot!r} has not been received") from None

    def draw(self, draw_id: str) -> DrawBalance:
        """The balance of draw ``draw_id``; :class:`LedgerError` when there is none."""
        try:
            return self.draws[draw_id]
        except KeyError:
            raise LedgerError("draw_id", f"there is no draw {draw_id!r}") from None


EMPTY = LedgerState()


def _with_lot(state: LedgerState, balance: LotBalance, entry_id: str) -> LedgerState:
    lots = dict(state.lots) | {balance.lot: balance}
    return replace(state, lots=MappingProxyType(lots), entry_ids=state.entry_ids | {entry_id})


def _with_draw(state: LedgerState, balance: DrawBalance) -> LedgerState:
    draws = dict(state.draws) | {balance.draw_id: balance}
    return replace(state, draws=MappingProxyType(draws))


# --------------------------------------------------------------------------------------
# Applying entries
# --------------------------------------------------------------------------------------


def apply(state: LedgerState, entry: Entry) -> LedgerState:
    """The balance after ``entry``; ``state`` itself never changes.

    Raises
    ------
    LedgerError
        For a repeated ``entry_id``; a quantity that is not a positive number; a draw or
        stock waste beyond what the lot has on hand; an administration or waste beyond
        what the draw has outstanding; waste without a witness or witnessed by the person
        wasting; an unknown lot or draw; a lot received again at another strength.
    """
    entry_id = _text(entry.entry_id, "entry_id")
    if entry_id in state.entry_ids:
        raise LedgerError("entry_id", f"entry {entry_id!r} is already in the ledger")
    if isinstance(entry, Receive):
        return _receive(state, entry, entry_id)
    if isinstance(entry, Draw):
        return _draw(state, entry, entry_id)
    if isinstance(entry, Administer):
        return _administer(state, entry, entry_id)
    if isinstance(entry, Waste):
        return _waste(state, entry, entry_id)
    raise LedgerError("entry", f"{type(entry).__name__} is not a ledger entry")


def replay(entries: Iterable[Entry], state: LedgerState = EMPTY) -> LedgerState:
    """Apply ``entries`` in order; the first refused one raises."""
    for entry in entries:
        state = apply(state, entry)
    return state


def _receive(state: LedgerState, entry: Receive, entry_id: str) -> LedgerState:
    lot = _text(entry.lot, "lot")
    _text(entry.by, "by")
    if isinstance(entry.vials, bool) or not isinstance(entry.vials, int) or entry.vials <= 0:
        raise LedgerError("vials", f"vials must be a whole number above 0, not {entry.vials!r}")
    mg_per_vial = _mg(entry.mg_per_vial, "mg_per_vial")
    ml_per_vial = _mg(entry.ml_per_vial, "ml_per_vial")
    received = mg_per_vial * entry.vials
    current = state.lots.get(lot)
    if current is None:
        balance = LotBalance(lot, mg_per_vial, ml_per_vial, received, received)
    elif (current.mg_per_vial, current.ml_per_vial) != (mg_per_vial, ml_per_vial):
        raise LedgerError(
            "mg_per_vial",
            f"lot {lot!r} was received as {_show(current.mg_per_vial)} in "
            f"{format(current.ml_per_vial.normalize(), 'f')} mL per vial",
        )
    else:
        balance = replace(
            current,
            received_mg=current.received_mg + received,
            on_hand_mg=current.on_hand_mg + received,
        )
    return _with_lot(state, balance, entry_id)


def _draw(state: LedgerState, entry: Draw, entry_id: str) -> LedgerState:
    quantity = _mg(entry.quantity_mg, "quantity_mg")
    _text(entry.by, "by")
    session_id = _text(entry.session_id, "session_id")
    lot = state.lot(entry.lot)
    if quantity > lot.on_hand_mg:
        raise LedgerError(
            "quantity_mg",
            f"drawing {_show(quantity)} from lot {lot.lot!r} would leave it negative: "
            f"{_show(lot.on_hand_mg)} on hand",
        )
    lot = replace(lot, on_hand_mg=lot.on_hand_mg - quantity, drawn_mg=lot.drawn_mg + quantity)
    draw = DrawBalance(entry_id, lot.lot, session_id, quantity)
    return _with_draw(_with_lot(state, lot, entry_id), draw)


def _take_from_draw(state: LedgerState, draw_id: str, quantity: Decimal, what: str) -> DrawBalance:
    draw = state.draw(draw_id)
    if quantity > draw.outstanding_mg:
        raise LedgerError(
            "quantity_mg",
            f"{what} {_show(quantity)} exceeds what draw {draw_id!r} has left: "
            f"{_show(draw.outstanding_mg)} of {_show(draw.drawn_mg)} drawn",
        )
    return draw


def _administer(state: LedgerState, entry: Administer, entry_id: str) -> LedgerState:
    quantity = _mg(entry.quantity_mg, "quantity_mg")
    _text(entry.by, "by")
    draw = _take_from_draw(state, entry.draw_id, quantity, "administering")
    draw = replace(draw, administered_mg=draw.administered_mg + quantity)
    return replace(_with_draw(state, draw), entry_ids=state.entry_ids | {entry_id})


def _waste(state: LedgerState, entry: Waste, entry_id: str) -> LedgerState:
    quantity = _mg(entry.quantity_mg, "quantity_mg")
    by = _text(entry.by, "by")
    if not isinstance(entry.witness, str) or not entry.witness.strip():
        raise LedgerError("witness", "waste of a controlled substance needs a witness")
    if _same_person(by, entry.witness):
        raise LedgerError("witness", "the witness must be someone other than the person wasting")
    if (entry.draw_id is None) == (entry.lot is None):
        raise LedgerError("draw_id", "waste names either the draw it comes from or a stock lot")
    if entry.draw_id is not None:
        draw = _take_from_draw(state, entry.draw_id, quantity, "wasting")
        draw = replace(draw, wasted_mg=draw.wasted_mg + quantity)
        return replace(_with_draw(state, draw), entry_ids=state.entry_ids | {entry_id})
    lot = state.lot(entry.lot or "")
    if quantity > lot.on_hand_mg:
        raise LedgerError(
            "quantity_mg",
            f"wasting {_show(quantity)} from lot {lot.lot!r} would leave it negative: "
            f"{_show(lot.on_hand_mg)} on hand",
        )
    lot = replace(
        lot,
        on_hand_mg=lot.on_hand_mg - quantity,
        wasted_from_stock_mg=lot.wasted_from_stock_mg + quantity,
    )
    return _with_lot(state, lot, entry_id)


# --------------------------------------------------------------------------------------
# Reading the balance
# --------------------------------------------------------------------------------------


def open_draws(state: LedgerState, session_id: str | None = None) -> tuple[DrawBalance, ...]:
    """Draws not fully given or wasted (for one session, or all)."""
    return tuple(
        draw
        for draw in state.draws.values()
        if draw.outstanding_mg > 0 and (session_id is None or draw.session_id == session_id)
    )


def counted_mg(balance: LotBalance, *, full_vials: int, partial_ml: Decimal | int = 0) -> Decimal:
    """Convert a physical count (sealed vials plus mL left in an open one) to mg."""
    if isinstance(full_vials, bool) or not isinstance(full_vials, int) or full_vials < 0:
        raise LedgerError("full_vials", "full_vials must be a whole number of 0 or more")
    partial = Decimal(partial_ml)
    if partial < 0 or partial > balance.ml_per_vial:
        raise LedgerError("partial_ml", "partial_ml must be between 0 and one vial's volume")
    return balance.mg_per_vial * full_vials + partial * balance.mg_per_ml


@dataclass(frozen=True)
class Reconciliation:
    """A physical count set against the ledger's balance for one lot.

    ``discrepancy_mg`` is counted minus expected: negative means drug is missing.
    ``open_draws`` lists syringes drawn from the lot and not yet accounted for: they are
    outside the safe, so they are not in ``expected_mg``.
    """

    lot: str
    expected_mg: Decimal
    counted_mg: Decimal
    discrepancy_mg: Decimal
    flagged: bool
    message: str
    open_draws: tuple[DrawBalance, ...]


def reconcile(state: LedgerState, lot: str, counted: Decimal | int) -> Reconciliation:
    """Compare a physical count of ``lot`` (mg in the safe) with the computed balance.

    Any difference is flagged: a controlled-substance count must match exactly.
    """
    balance = state.lot(lot)
    if isinstance(counted, bool) or not isinstance(counted, int | Decimal):
        raise LedgerError("counted_mg", f"a count is an int or Decimal of mg, not {counted!r}")
    count = Decimal(counted)
    if not count.is_finite() or count < 0:
        raise LedgerError("counted_mg", "a count must be 0 mg or more")
    difference = count - balance.on_hand_mg
    if difference == 0:
        message = f"lot {lot!r}: count matches the ledger ({_show(count)})"
    else:
        direction = "more" if difference > 0 else "less"
        message = (
            f"lot {lot!r}: counted {_show(count)}, ledger expects {_show(balance.on_hand_mg)}: "
            f"{_show(abs(difference))} {direction} than expected"
        )
    draws = tuple(d for d in open_draws(state) if d.lot == lot)
    return Reconciliation(
        lot, balance.on_hand_mg, count, difference, difference != 0, message, draws
    )
