"""The database refuses to rewind or delete the audit chain's head, on SQLite and PostgreSQL.

The head only moves forward by one, onto an event row that exists with that hash: the one
move the append path makes. Rewinding it is how newest rows would be hidden.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit import trail
from ketaclinic.audit.database import statements
from ketaclinic.audit.models import AuditChainHead


@pytest.fixture
def events(db, nurse):
    return [trail.record(action="auth.login", actor=nurse) for _ in range(3)]


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def head() -> tuple[int, str]:
    row = AuditChainHead.objects.get(pk=1)
    return row.seq, row.last_hash


def test_a_raw_update_rewinding_the_head_is_refused(events):
    with pytest.raises(DatabaseError, match="only forward"), transaction.atomic():
        raw("UPDATE audit_auditchainhead SET seq = %s, last_hash = %s", [2, events[1].hash])
    assert head() == (3, events[2].hash)


def test_a_raw_delete_of_the_head_is_refused(events):
    with pytest.raises(DatabaseError, match="DELETE refused"), transaction.atomic():
        raw("DELETE FROM audit_auditchainhead")
    assert head() == (3, events[2].hash)


def test_moving_the_head_ahead_of_the_events_is_refused(events):
    with pytest.raises(DatabaseError, match="only forward"), transaction.atomic():
        raw("UPDATE audit_auditchainhead SET seq = seq + 1")
    assert head()[0] == 3


def test_the_head_cannot_point_at_a_hash_no_event_has(events):
    with pytest.raises(DatabaseError, match="only forward"), transaction.atomic():
        raw("UPDATE audit_auditchainhead SET last_hash = %s", ["f" * 64])
    assert head() == (3, events[2].hash)


def test_the_head_stays_guarded_when_the_event_guards_are_dropped(events):
    """Cutting the newest rows off still leaves a head that will not rewind."""
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, install=False):
            cursor.execute(sql)
    raw("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    with pytest.raises(DatabaseError, match="only forward"), transaction.atomic():
        raw("UPDATE audit_auditchainhead SET seq = %s, last_hash = %s", [2, events[1].hash])
    assert [b.problem for b in trail.verify()] == [
        "newest rows removed (chain head ahead of the trail)"
    ]


def test_the_append_path_still_moves_the_head(events, nurse):
    fourth = trail.record(action="auth.logout", actor=nurse)
    assert head() == (4, fourth.hash)
    assert fourth.prev_hash == events[2].hash
    assert trail.verify() == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's INSERT OR REPLACE")
def test_replacing_the_head_row_is_refused_on_sqlite(events):
    """REPLACE deletes the old row without firing DELETE triggers, so INSERT is guarded too."""
    with pytest.raises(DatabaseError, match="INSERT refused"), transaction.atomic():
        raw(
            "INSERT OR REPLACE INTO audit_auditchainhead (id, seq, last_hash) VALUES (1, 0, %s)",
            [trail.GENESIS],
        )
    assert head() == (3, events[2].hash)
