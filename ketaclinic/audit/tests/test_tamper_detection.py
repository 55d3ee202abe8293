"""The audit trail catches an edit, a deletion and an insertion made behind the app's back.

Tampering needs the append-only triggers out of the way first, as a database superuser
could do; the test drops them inside its own transaction, which rolls back afterwards.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketaclinic.audit import trail
from ketaclinic.audit.database import statements
from ketaclinic.audit.models import AuditEvent


@pytest.fixture
def events(db, nurse, patient_a):
    return [
        trail.record(action="patient.view", actor=nurse, patient=patient_a, detail={"n": n})
        for n in range(5)
    ]


def without_guards() -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, install=False):
            cursor.execute(sql)


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_trail_verifies(events):
    assert trail.verify() == []
    call_command("audit_verify")


def test_an_edited_row_is_caught(events):
    without_guards()
    raw("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["patient.change", 3])
    breaks = trail.verify()
    assert [(b.seq, b.problem) for b in breaks] == [(3, "content changed after it was written")]
    with pytest.raises(CommandError, match="FAILED"):
        call_command("audit_verify")


def test_a_deleted_row_is_caught(events):
    without_guards()
    raw("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    breaks = trail.verify()
    assert {b.seq for b in breaks} == {3}
    assert any("removed" in b.problem for b in breaks)


def test_deleting_the_newest_rows_is_caught(events):
    without_guards()
    raw("DELETE FROM audit_auditevent WHERE seq >= %s", [4])
    assert [b.problem for b in trail.verify()] == [
        "newest rows removed (chain head ahead of the trail)"
    ]


def test_an_inserted_row_is_caught_even_with_a_plausible_hash(events, nurse):
    """A forger who knows the format but not the chain key cannot fake the hash."""
    without_guards()
    newest = AuditEvent.objects.order_by("-seq").first()
    forged = AuditEvent(
        seq=newest.seq + 1,
        at=newest.at,
        actor=nurse,
        actor_username=nurse.username,
        actor_role=nurse.role,
        action="patient.view",
        detail={},
        prev_hash=newest.hash,
        hash=hashlib.sha256(b"forged").hexdigest(),
    )
    AuditEvent.objects.bulk_create([forged])
    problems = {(b.seq, b.problem) for b in trail.verify()}
    assert (forged.seq, "content changed after it was written") in problems


def test_a_row_inserted_in_the_middle_is_caught(events):
    without_guards()
    # Make room by renumbering the tail, as a forger would, then insert a row at seq 3.
    raw("UPDATE audit_auditevent SET seq = seq + 100 WHERE seq >= %s", [3])
    third = AuditEvent.objects.get(seq=103)
    raw(
        "INSERT INTO audit_auditevent (seq, at, actor_username, actor_role, action, object_type,"
        " object_id, outcome, path, detail, prev_hash, hash) VALUES"
        " (%s, %s, '', '', 'patient.view', '', '', 'success', '', '{}', %s, %s)",
        [3, third.at, AuditEvent.objects.get(seq=2).hash, "f" * 64],
    )
    assert trail.verify(), "an insertion must break the chain"
