"""Every vial received, drawn, given and wasted is logged; waste needs a witness.

Balances are in mg per lot (REFERENCE.md section 3: ketamine is a controlled substance).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.inventory.ledger import (
    EMPTY,
    Administer,
    Draw,
    LedgerError,
    Receive,
    Waste,
    apply,
    open_draws,
    replay,
)

RECEIVED = Receive("r1", "LOT-A", 2, Decimal(500), Decimal(10), by="pharmacist")


def stocked():
    """Two 500 mg / 10 mL vials of lot LOT-A, and 50 mg drawn for session S1."""
    return replay([RECEIVED, Draw("d1", "LOT-A", Decimal(50), "S1", by="nurse")])


def test_receiving_vials_adds_their_mg_to_the_lot():
    lot = apply(EMPTY, RECEIVED).lot("LOT-A")

    assert (lot.received_mg, lot.on_hand_mg, lot.vials_on_hand) == (1000, 1000, 2)
    assert lot.mg_per_ml == 50


def test_receiving_more_of_a_lot_adds_to_it():
    state = replay([RECEIVED, Receive("r2", "LOT-A", 1, Decimal(500), Decimal(10), "pharmacist")])

    assert state.lot("LOT-A").on_hand_mg == 1500


def test_a_lot_cannot_be_received_again_at_another_strength():
    other = Receive("r2", "LOT-A", 1, Decimal(100), Decimal(1), "pharmacist")

    with pytest.raises(LedgerError, match="was received as 500 mg in 10 mL per vial"):
        replay([RECEIVED, other])


def test_a_draw_moves_drug_from_the_safe_to_a_session():
    state = stocked()

    assert state.lot("LOT-A").on_hand_mg == 950
    assert state.lot("LOT-A").vials_on_hand == Decimal("1.9")
    assert state.draw("d1").outstanding_mg == 50


def test_administering_and_wasting_account_for_a_draw():
    state = replay(
        [
            Administer("a1", "d1", Decimal(35), by="nurse"),
            Waste("w1", Decimal(15), by="nurse", witness="prescriber", draw_id="d1"),
        ],
        stocked(),
    )

    draw = state.draw("d1")
    assert (draw.administered_mg, draw.wasted_mg, draw.outstanding_mg) == (35, 15, 0)
    assert open_draws(state) == ()


def test_a_draw_not_given_or_wasted_stays_open_for_its_session():
    state = apply(stocked(), Administer("a1", "d1", Decimal(35), by="nurse"))

    (draw,) = open_draws(state, "S1")
    assert draw.outstanding_mg == 15
    assert open_draws(state, "S2") == ()


def test_a_broken_vial_is_wasted_from_stock_with_a_witness():
    state = apply(
        stocked(),
        Waste("w1", Decimal(500), by="nurse", witness="prescriber", lot="LOT-A", reason="broken"),
    )

    assert state.lot("LOT-A").on_hand_mg == 450
    assert state.lot("LOT-A").wasted_from_stock_mg == 500


# Each refused entry: the error names the field and the state is left as it was.
REFUSED = [
    (Draw("d2", "LOT-A", Decimal(951), "S2", "nurse"), "quantity_mg", "leave it negative"),
    (Draw("d2", "LOT-Z", Decimal(1), "S2", "nurse"), "lot", "has not been received"),
    (
        Administer("a1", "d1", Decimal(51), "nurse"),
        "quantity_mg",
        "exceeds what draw 'd1' has left",
    ),
    (Administer("a1", "d9", Decimal(1), "nurse"), "draw_id", "no draw"),
    (Waste("w1", Decimal(5), "nurse", "", draw_id="d1"), "witness", "needs a witness"),
    (Waste("w1", Decimal(5), "nurse", "nurse", draw_id="d1"), "witness", "someone other"),
    (Waste("w1", Decimal(5), "Nurse ", " nurse", draw_id="d1"), "witness", "someone other"),
    (Waste("w1", Decimal(51), "nurse", "prescriber", draw_id="d1"), "quantity_mg", "exceeds"),
    (Waste("w1", Decimal(951), "nurse", "prescriber", lot="LOT-A"), "quantity_mg", "negative"),
    (Waste("w1", Decimal(5), "nurse", "prescriber"), "draw_id", "either"),
    (
        Waste("w1", Decimal(5), "nurse", "prescriber", draw_id="d1", lot="LOT-A"),
        "draw_id",
        "either",
    ),
    (Draw("d1", "LOT-A", Decimal(1), "S2", "nurse"), "entry_id", "already in the ledger"),
    (Draw("d2", "LOT-A", Decimal(0), "S2", "nurse"), "quantity_mg", "above 0"),
    (Draw("d2", "LOT-A", 1.5, "S2", "nurse"), "quantity_mg", "Decimal"),
    (Draw("d2", "LOT-A", Decimal(1), "", "nurse"), "session_id", "required"),
    (Administer("a1", "d1", Decimal(1), ""), "by", "required"),
    (Receive("r2", "LOT-B", 0, Decimal(500), Decimal(10), "pharmacist"), "vials", "whole number"),
]


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    REFUSED,
    ids=[
        "draw more than on hand",
        "draw from an unknown lot",
        "administer more than drawn",
        "administer from an unknown draw",
        "waste without a witness",
        "waste witnessed by the waster",
        "waste witnessed by the waster, spelled differently",
        "waste more than drawn",
        "waste more stock than on hand",
        "waste naming neither draw nor lot",
        "waste naming both draw and lot",
        "repeated entry id",
        "zero quantity",
        "float quantity",
        "draw without a session",
        "administer by nobody",
        "receive no vials",
    ],
)
def test_a_refused_entry_names_its_field_and_leaves_the_balance_unchanged(entry, field, message):
    before = stocked()
    snapshot = stocked()

    with pytest.raises(LedgerError, match=message) as caught:
        apply(before, entry)

    assert caught.value.field == field
    assert before == snapshot
