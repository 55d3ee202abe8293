"""The backup drill, on SQLite and PostgreSQL: back up a small clinic, restore it into a new
database, and find the same rows in every table and the same audit head.

These tests commit for real (``transactional_db``): ``pg_dump`` and SQLite's backup read what
is committed. The restored database is a new SQLite file, or a new PostgreSQL database named
after the test database, created and dropped here.
"""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from ketaclinic.audit import backup, checkpoints, trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.tests.clinic import make_clinic


@pytest.fixture
def clinic(transactional_db, settings, prescriber, nurse, patient_a, patient_b):
    settings.AUDIT_CHECKPOINT_EVERY = 10
    make_clinic(prescriber, nurse, patient_a)
    for _ in range(3):
        trail.record(action="patient.view", actor=nurse, patient=patient_b)
    call_command("audit_checkpoint")
    return patient_a


@contextlib.contextmanager
def new_database(tmp_path, suffix: str = "restored") -> Iterator[str]:
    """An empty database of the same engine, reachable under a temporary alias."""
    if connection.vendor == "sqlite":
        with backup.temporary_alias(str(tmp_path / f"{suffix}.sqlite3")) as alias:
            yield alias
        return
    name = f"{connection.settings_dict['NAME']}_{suffix}"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        with backup.temporary_alias(name) as alias:
            yield alias
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_drill_restores_every_row_and_the_audit_head(clinic, tmp_path):
    dump = tmp_path / "clinic.backup"
    call_command("backup", str(dump))
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["counts"] == backup.row_counts("default")
    assert manifest["counts"]["patients_patient"] == 2
    assert manifest["audit_head"]["seq"] == AuditEvent.objects.count() >= 10
    for written in (dump, backup.manifest_path(dump)):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600

    with new_database(tmp_path) as restored:
        call_command("restore", str(dump), database=restored)
        assert backup.row_counts(restored) == backup.row_counts("default")
        assert backup.audit_head(restored) == backup.audit_head("default")
        assert trail.verify(using=restored) == []
        assert checkpoints.check(restored) == []
        call_command("audit_verify", database=restored)
        assert (
            AuditEvent.objects.using(restored).filter(patient_id=clinic.pk).count()
            == AuditEvent.objects.filter(patient_id=clinic.pk).count()
        )


def test_restore_refuses_a_full_database_an_altered_dump_and_a_foreign_manifest(
    clinic, tmp_path, settings
):
    """One backup, three refusals (each restore would otherwise cost a committed clinic)."""
    dump = tmp_path / "clinic.backup"
    call_command("backup", str(dump))
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(dump))

    with new_database(tmp_path) as restored:
        key = settings.AUDIT_CHAIN_KEY
        settings.AUDIT_CHAIN_KEY = "another installation"
        with pytest.raises(CommandError, match="not signed with this server's AUDIT_CHAIN_KEY"):
            call_command("restore", str(dump), database=restored)
        settings.AUDIT_CHAIN_KEY = key

        with dump.open("ab") as file:
            file.write(b"\0")
        with pytest.raises(CommandError, match="SHA-256"):
            call_command("restore", str(dump), database=restored)
        assert backup.is_empty(restored) == []


def test_an_older_backup_is_restored_as_a_rollback_to_accept(clinic, tmp_path, nurse):
    dump = tmp_path / "clinic.backup"
    call_command("backup", str(dump))
    backed_up = backup.audit_head("default")[0]
    for _ in range(10):  # crosses the next multiple of AUDIT_CHECKPOINT_EVERY
        trail.record(action="auth.login", actor=nurse)
    call_command("audit_checkpoint")
    newest = checkpoints.last_checkpoint().seq
    with new_database(tmp_path) as restored:
        with pytest.raises(CommandError, match=f"rolled back to event {backed_up} "):
            call_command("restore", str(dump), database=restored)
        assert f"checkpoint at event {newest}" in str(checkpoints.check(restored)[0].problem)
        call_command("audit_checkpoint", "--accept-rollback", database=restored)
        call_command("audit_verify", database=restored)
    assert [line.kind for line in checkpoints.read()][-1] == "restore"


def test_restore_can_accept_the_rollback_itself(clinic, tmp_path, nurse):
    dump = tmp_path / "clinic.backup"
    call_command("backup", str(dump))
    for _ in range(10):
        trail.record(action="auth.login", actor=nurse)
    with new_database(tmp_path) as restored:
        call_command("restore", str(dump), "--accept-rollback", database=restored)
        call_command("audit_verify", database=restored)
        assert checkpoints.last_checkpoint().kind == "restore"


def test_backup_refuses_to_overwrite_a_file(db, tmp_path):
    dump = tmp_path / "clinic.backup"
    dump.write_text("yesterday's backup")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(dump))
    assert dump.read_text() == "yesterday's backup"


def test_the_temporary_alias_is_gone_afterwards(db, tmp_path):
    with backup.temporary_alias(str(tmp_path / "x.sqlite3")) as alias:
        assert connections[alias].settings_dict["NAME"].endswith("x.sqlite3")
    assert not hasattr(connections._connections, alias)


def test_a_trail_that_does_not_verify_is_backed_up_anyway_and_said_so(clinic, tmp_path):
    """The patients' records matter more than a clean trail: back up, then fail loudly."""
    forged = checkpoints.Checkpoint("checkpoint", 2, "e" * 64, "2026-01-01T00:00:00+00:00")
    checkpoints.append_line(forged.as_line().replace('"mac":"', '"mac":"0'))
    dump = tmp_path / "clinic.backup"
    with pytest.raises(CommandError, match="backup written, but the audit trail does not"):
        call_command("backup", str(dump))
    manifest = backup.Manifest.read(backup.manifest_path(dump))
    assert manifest.counts == backup.row_counts("default")
    assert ["forged" in problem for problem in manifest.audit_problems] == [True]
