"""Through the database services, no sequence of entries takes a lot or a draw below zero.

Hypothesis writes sequences of receive, draw, administer and waste (from a draw and from
stock) against a fresh lot and session. A small independent model says which entries a
correct log accepts; the services must accept exactly those, store nothing for the others,
and keep the replayed balance equal to the model's and never negative.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ketaclinic.inventory import services
from ketaclinic.inventory.models import LedgerEntry

from .helpers import chart_infusion, plan_for, receive, request_by, session_on

MG_PER_VIAL = Decimal(100)
# The session's chart shows 2 mg/min for 300 min: 600 mg delivered, so the cap on what
# may be logged as administered binds in some sequences.
DELIVERED_MG = Decimal(600)

cents = st.integers(min_value=1, max_value=60_000).map(lambda c: Decimal(c) / 100)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(min_value=1, max_value=3)),
        st.tuples(st.just("draw"), cents),
        st.tuples(st.just("administer"), st.integers(min_value=0, max_value=4), cents),
        st.tuples(st.just("waste_draw"), st.integers(min_value=0, max_value=4), cents),
        st.tuples(st.just("waste_stock"), cents),
    ),
    min_size=1,
    max_size=12,
)


class Model:
    """What a correct log holds: mg in the safe, and what each draw has left."""

    def __init__(self, vials: int) -> None:
        self.on_hand = MG_PER_VIAL * vials
        self.received = self.on_hand
        self.outstanding: list[Decimal] = []
        self.administered = Decimal(0)


@pytest.fixture
def plan(patient_a, prescriber):
    return plan_for(patient_a, prescriber, "iv")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first_vials=st.integers(min_value=1, max_value=4), steps=operations)
def test_no_sequence_of_entries_takes_a_balance_below_zero(
    plan, nurse, prescriber, first_vials, steps
):
    session = session_on(plan, nurse, opened_at=timezone.now() - dt.timedelta(hours=6))
    chart_infusion(session, rate="2", minutes=300)
    lot = receive(nurse, vials=first_vials, mg_per_vial=str(MG_PER_VIAL), ml_per_vial="2").lot
    model = Model(first_vials)
    draws: list[LedgerEntry] = []
    by, witness = request_by(nurse), prescriber

    for step in steps:
        kind = step[0]
        if kind in ("administer", "waste_draw") and not draws:
            continue
        before = LedgerEntry.objects.filter(lot=lot).count()
        accepted = True
        try:
            if kind == "receive":
                expected = True
                receive(
                    nurse,
                    vials=step[1],
                    mg_per_vial="100",
                    ml_per_vial="2",
                    lot_number=lot.lot_number,
                    expires_in_days=(lot.expires_on - timezone.localdate()).days,
                )
                model.on_hand += MG_PER_VIAL * step[1]
                model.received += MG_PER_VIAL * step[1]
            elif kind == "draw":
                expected = step[1] <= model.on_hand
                row = services.draw_record(
                    request=by, session=session, lot=lot, quantity_mg=step[1]
                )
                draws.append(row)
                model.on_hand -= step[1]
                model.outstanding.append(step[1])
            elif kind == "administer":
                index, amount = step[1] % len(draws), step[2]
                expected = (
                    amount <= model.outstanding[index]
                    and model.administered + amount <= DELIVERED_MG
                )
                services.administer_record(request=by, draw=draws[index], quantity_mg=amount)
                model.outstanding[index] -= amount
                model.administered += amount
            elif kind == "waste_draw":
                index, amount = step[1] % len(draws), step[2]
                expected = amount <= model.outstanding[index]
                services.waste_record(
                    request=by, draw=draws[index], quantity_mg=amount, witness=witness
                )
                model.outstanding[index] -= amount
            else:
                expected = step[1] <= model.on_hand
                services.waste_record(
                    request=by, lot=lot, quantity_mg=step[1], witness=witness, reason="broken"
                )
                model.on_hand -= step[1]
        except ValidationError as error:
            accepted = False
            refusal = error.message_dict
        else:
            refusal = None
        assert accepted or refusal, "a refusal names the field at fault"

        event(f"{kind} {'accepted' if accepted else 'refused'}")
        assert accepted == expected, (step, model.on_hand, model.outstanding)
        assert LedgerEntry.objects.filter(lot=lot).count() == before + (1 if accepted else 0)

        state = services.lot_state(lot)
        balance = state.lot(lot.lot_number)
        assert balance.on_hand_mg == model.on_hand >= 0
        assert [state.draws[f"#{d.pk}"].outstanding_mg for d in draws] == model.outstanding
        assert all(left >= 0 for left in model.outstanding)
        assert (
            balance.received_mg
            == model.received
            == (balance.on_hand_mg + balance.drawn_mg + balance.wasted_from_stock_mg)
        )
    assert services.administered_in_session(session) == model.administered <= DELIVERED_MG
