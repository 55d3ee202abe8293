"""Random receive/draw/administer/waste sequences never make a balance negative.

Hypothesis drives the ledger with entries that are often invalid (too much, the wrong draw,
no witness, the waster as witness, a repeated id). Accepted entries keep every invariant;
refused ones leave the state exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ketaclinic.inventory.ledger import (
    EMPTY,
    Administer,
    Draw,
    LedgerError,
    Receive,
    Waste,
    apply,
)

LOTS = ("LOT-A", "LOT-B")
quantities = st.decimals(min_value=Decimal("-5"), max_value=Decimal("700"), places=1)
witnesses = st.sampled_from(("prescriber", "pharmacist", " Nurse", ""))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = EMPTY
        self.counter = 0

    def _next_id(self) -> str:
        self.counter += 1
        return f"e{self.counter}"

    def _near(self, data, amount: Decimal) -> Decimal:
        """A quantity, often exactly at, under or just over ``amount``, to probe the edge."""
        edge = st.sampled_from([amount, amount / 2, amount + Decimal("0.1")])
        return data.draw(st.one_of(quantities, edge))

    def _pick_draw(self, data) -> tuple[str, Decimal]:
        draw_id = data.draw(st.sampled_from([*sorted(self.state.draws), "missing"]))
        draw = self.state.draws.get(draw_id)
        return draw_id, self._near(data, draw.outstanding_mg if draw else Decimal(1))

    def _try(self, entry) -> None:
        before = self.state
        snapshot = (dict(before.lots), dict(before.draws), before.entry_ids)
        try:
            self.state = apply(before, entry)
        except LedgerError:
            # A refused entry changes nothing, not even the state object passed in.
            assert (dict(before.lots), dict(before.draws), before.entry_ids) == snapshot
        else:
            assert entry.entry_id in self.state.entry_ids

    @initialize(vials=st.integers(1, 2))
    def stock_the_safe(self, vials):
        self._try(Receive(self._next_id(), "LOT-A", vials, Decimal(500), Decimal(10), "pharmacist"))

    @rule(lot=st.sampled_from(LOTS), vials=st.integers(-1, 3))
    def receive(self, lot, vials):
        self._try(Receive(self._next_id(), lot, vials, Decimal(500), Decimal(10), "pharmacist"))

    @rule(data=st.data(), lot=st.sampled_from((*LOTS, "LOT-Z")))
    def draw(self, data, lot):
        on_hand = self.state.lots[lot].on_hand_mg if lot in self.state.lots else Decimal(1)
        self._try(Draw(self._next_id(), lot, self._near(data, on_hand), "S1", "nurse"))

    @rule(data=st.data())
    def administer(self, data):
        draw_id, quantity = self._pick_draw(data)
        self._try(Administer(self._next_id(), draw_id, quantity, "nurse"))

    @rule(data=st.data(), witness=witnesses)
    def waste_from_draw(self, data, witness):
        draw_id, quantity = self._pick_draw(data)
        self._try(Waste(self._next_id(), quantity, "nurse", witness, draw_id=draw_id))

    @rule(lot=st.sampled_from(LOTS), quantity=quantities, witness=witnesses)
    def waste_from_stock(self, lot, quantity, witness):
        self._try(Waste(self._next_id(), quantity, "nurse", witness, lot=lot))

    @rule()
    def repeat_an_entry_id(self):
        entry_id = min(self.state.entry_ids)
        with pytest.raises(LedgerError) as caught:
            apply(self.state, Draw(entry_id, "LOT-A", Decimal(1), "S1", "nurse"))
        assert caught.value.field == "entry_id"

    @invariant()
    def nothing_is_ever_negative(self):
        for lot in self.state.lots.values():
            assert lot.on_hand_mg >= 0
        for draw in self.state.draws.values():
            assert min(draw.outstanding_mg, draw.administered_mg, draw.wasted_mg) >= 0

    @invariant()
    def every_mg_received_is_somewhere(self):
        for lot in self.state.lots.values():
            drawn = sum(
                (d.drawn_mg for d in self.state.draws.values() if d.lot == lot.lot), Decimal(0)
            )
            assert drawn == lot.drawn_mg
            assert lot.received_mg == lot.on_hand_mg + lot.drawn_mg + lot.wasted_from_stock_mg
        for draw in self.state.draws.values():
            assert draw.drawn_mg == draw.administered_mg + draw.wasted_mg + draw.outstanding_mg


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestRandomLedgerSequencesNeverGoNegative = LedgerMachine.TestCase
