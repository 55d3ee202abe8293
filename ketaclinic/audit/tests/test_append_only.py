"""The database itself refuses to change or delete audit rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit import trail
from ketaclinic.audit.database import purge_window
from ketaclinic.audit.models import AuditEvent


@pytest.fixture
def event(db, nurse):
    return trail.record(action="auth.login", actor=nurse)


def test_the_database_refuses_to_update_an_audit_row(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="auth.logout")
    event.refresh_from_db()
    assert event.action == "auth.login"


def test_the_database_refuses_to_delete_an_audit_row(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_raw_sql_delete_is_refused_too(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_only_the_flush_purge_window_may_empty_the_table(event):
    with transaction.atomic(), purge_window("default"):
        AuditEvent.objects.all().delete()
        assert AuditEvent.objects.count() == 0
    # Outside the window the guard is back.
    trail.record(action="auth.login", actor=event.actor)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


def test_each_event_extends_the_chain(db, nurse, patient_a):
    first = trail.record(action="patient.view", actor=nurse, patient=patient_a)
    second = trail.record(action="patient.view", actor=nurse, patient=patient_a)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert second.patient_id == patient_a.pk
    assert second.actor_username == "nurse"
    assert second.actor_role == "nurse"


def test_an_insert_or_replace_cannot_overwrite_an_audit_row_on_sqlite(event):
    if connection.vendor != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's own statement")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT OR REPLACE INTO audit_auditevent SELECT * FROM audit_auditevent WHERE id = %s",
            [event.pk],
        )
    event.refresh_from_db()
    assert event.action == "auth.login"
