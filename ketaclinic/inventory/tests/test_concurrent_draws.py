"""Writers to one lot are serialised, so two draws racing for the last of it cannot both land.

These tests commit for real (``transactional_db``): each thread has its own connection and
transaction, and the database is emptied afterwards by ``flush``, through the purge window
the append-only guards allow.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from ketaclinic.inventory import services
from ketaclinic.inventory.models import EntryKind, LedgerEntry

from .helpers import on_hand, plan_for, receive, request_by, session_on


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's test database is one in-memory connection; IMMEDIATE serialises writers",
)
def test_two_draws_racing_for_the_last_of_a_lot_cannot_both_succeed(
    transactional_db, patient_a, prescriber, nurse
):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    lot = receive(nurse, vials=1, mg_per_vial="100", ml_per_vial="2").lot
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def draw() -> None:
        try:
            start.wait()
            services.draw_record(
                request=request_by(nurse), session=session, lot=lot, quantity_mg=Decimal(80)
            )
            outcomes.append("drawn")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["drawn", "refused"]
    assert on_hand(lot) == 20
    assert LedgerEntry.objects.filter(kind=EntryKind.DRAW).count() == 1


def test_a_committed_log_is_still_emptied_by_the_test_flush(transactional_db, nurse):
    # If the guards did not honour flush's purge window, this test's teardown would fail.
    receive(nurse, vials=1)
    assert LedgerEntry.objects.count() == 1
