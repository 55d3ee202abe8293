"""A physical count is set against the computed balance; any difference is flagged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.inventory.ledger import (
    Draw,
    LedgerError,
    Receive,
    counted_mg,
    reconcile,
    replay,
)

STATE = replay(
    [
        Receive("r1", "LOT-A", 2, Decimal(500), Decimal(10), by="pharmacist"),
        Draw("d1", "LOT-A", Decimal(50), "S1", by="nurse"),
    ]
)


def test_a_count_that_matches_the_ledger_is_not_flagged():
    result = reconcile(STATE, "LOT-A", Decimal(950))

    assert not result.flagged
    assert result.discrepancy_mg == 0
    assert result.message == "lot 'LOT-A': count matches the ledger (950 mg)"


def test_a_short_count_is_flagged_with_how_much_is_missing():
    result = reconcile(STATE, "LOT-A", Decimal(900))

    assert result.flagged
    assert result.discrepancy_mg == -50
    assert result.message == (
        "lot 'LOT-A': counted 900 mg, ledger expects 950 mg: 50 mg less than expected"
    )


def test_an_over_count_is_flagged_too():
    assert reconcile(STATE, "LOT-A", Decimal(1000)).discrepancy_mg == 50


def test_the_reconciliation_lists_syringes_drawn_and_not_accounted_for():
    (draw,) = reconcile(STATE, "LOT-A", Decimal(950)).open_draws

    assert (draw.draw_id, draw.outstanding_mg) == ("d1", 50)


def test_a_count_of_sealed_vials_and_an_open_one_converts_to_mg():
    lot = STATE.lot("LOT-A")

    assert counted_mg(lot, full_vials=1, partial_ml=Decimal(9)) == Decimal(950)


@pytest.mark.parametrize("counted", [Decimal(-1), 950.0, True])
def test_a_count_must_be_a_non_negative_exact_number(counted):
    with pytest.raises(LedgerError):
        reconcile(STATE, "LOT-A", counted)


def test_a_count_of_an_unknown_lot_is_refused():
    with pytest.raises(LedgerError, match="has not been received"):
        reconcile(STATE, "LOT-Z", Decimal(0))
