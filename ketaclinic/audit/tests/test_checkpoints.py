"""Signed checkpoints outside the database catch a trail cut short, emptied or rolled back.

The tamperer here has full write access to the database (drops the guards, deletes rows,
rewinds the head) but not the server's checkpoint file or ``AUDIT_CHAIN_KEY``.
"""

from __future__ import annotations

import json
import logging
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from ketaclinic.audit import checkpoints, trail
from ketaclinic.audit.database import head_statements, statements
from ketaclinic.audit.models import AuditEvent


@pytest.fixture
def record_five(db, nurse, patient_a, django_capture_on_commit_callbacks):
    """Five committed events and a checkpoint at the fifth (the one per N events)."""

    def record_five():
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(5):
                trail.record(action="patient.view", actor=nurse, patient=patient_a, detail={"n": n})
        return list(AuditEvent.objects.order_by("seq"))

    return record_five


@pytest.fixture
def five_checkpointed(settings, record_five):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    settings.AUDIT_CHECKPOINT_SECONDS = 10**12  # only the every-N rule applies
    return record_five()


def lines() -> list[dict]:
    return [json.loads(line) for line in checkpoints.path().read_text().splitlines() if line]


def tamper(sql: str, params: list | None = None) -> None:
    """As a database superuser would: guards off, then the change."""
    with connection.cursor() as cursor:
        for guard in statements(connection.vendor, install=False):
            cursor.execute(guard)
        for guard in head_statements(connection.vendor, install=False):
            cursor.execute(guard)
        cursor.execute(sql, params or [])


def verify_output() -> str:
    with pytest.raises(CommandError, match="FAILED") as failure:
        call_command("audit_verify", stderr=(err := _Buffer()))
    return err.text + str(failure.value)


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, value):
        self.text += value + "\n"

    def flush(self):
        pass


def test_every_nth_event_writes_a_signed_checkpoint_after_commit(five_checkpointed):
    [written] = lines()
    newest = five_checkpointed[-1]
    assert (written["kind"], written["seq"], written["hash"]) == ("checkpoint", 5, newest.hash)
    assert checkpoints.read()[0].mac() == written["mac"]
    assert stat.S_IMODE(checkpoints.path().stat().st_mode) == 0o600
    call_command("audit_verify")


def test_a_minute_without_a_checkpoint_makes_the_next_commit_write_one(settings, record_five):
    settings.AUDIT_CHECKPOINT_EVERY = 1000
    settings.AUDIT_CHECKPOINT_SECONDS = 0
    record_five()
    # One checkpoint for the whole transaction, of the head as committed.
    assert [(line["seq"]) for line in lines()] == [5]


def test_one_transaction_asks_for_one_checkpoint_however_many_events(
    settings, nurse, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 1
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(4):
            trail.record(action="auth.login", actor=nurse)
    assert callbacks == [checkpoints.write_after_commit]


def test_a_rolled_back_event_never_reaches_a_checkpoint(
    settings, nurse, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 1

    def a_failing_write():
        with transaction.atomic():
            trail.record(action="auth.login", actor=nurse)
            raise RuntimeError("the write fails")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        a_failing_write()
    assert callbacks == []
    assert not checkpoints.path().exists()


def test_each_checkpoint_goes_to_the_checkpoint_logger_too(settings, record_five, caplog):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    with caplog.at_level(logging.INFO, logger="ketaclinic.audit.checkpoint"):
        record_five()
    [logged] = [r for r in caplog.records if r.name == "ketaclinic.audit.checkpoint"]
    assert json.loads(logged.getMessage())["seq"] == 5


def test_cutting_off_the_newest_rows_and_rewinding_the_head_is_reported(five_checkpointed):
    third = five_checkpointed[2]
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", [3])
    tamper("UPDATE audit_auditchainhead SET seq = %s, last_hash = %s", [3, third.hash])
    assert trail.verify() == [], "the chain that is left holds by itself"
    output = verify_output()
    at = lines()[0]["at"]
    assert f"rolled back to event 3 (checkpoint at event 5, time {at})" in output


def test_emptying_the_table_is_reported_as_wiped(five_checkpointed):
    tamper("DELETE FROM audit_auditevent")
    tamper("DELETE FROM audit_auditchainhead")
    assert trail.verify() == []
    assert "wiped: the audit trail is empty, but a checkpoint recorded event 5" in verify_output()


def test_a_checkpoint_line_with_a_bad_signature_is_reported_as_forged(five_checkpointed):
    forged = lines()[0] | {"seq": 2}
    checkpoints.append_line(json.dumps(forged) + "\n")
    assert "checkpoint line 2 (event 2," in verify_output()
    assert "is forged" in verify_output()


def test_a_rewritten_trail_disagrees_with_its_checkpoint(five_checkpointed):
    """Whoever holds the key could re-chain the rows; the checkpoint still remembers."""
    point = checkpoints.Checkpoint("checkpoint", 4, "e" * 64, "2026-01-01T00:00:00+00:00")
    checkpoints.append_line(point.as_line())
    assert "event 4 differs from its checkpoint" in verify_output()


def test_cron_writes_a_checkpoint_only_when_the_trail_moved(settings, five_checkpointed, nurse):
    call_command("audit_checkpoint")
    assert len(lines()) == 1
    trail.record(action="auth.login", actor=nurse)
    call_command("audit_checkpoint")
    assert [line["seq"] for line in lines()] == [5, 6]


def test_an_accepted_rollback_is_recorded_and_verifies_again(five_checkpointed, nurse):
    third = five_checkpointed[2]
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", [3])
    tamper("UPDATE audit_auditchainhead SET seq = %s, last_hash = %s", [3, third.hash])
    verify_output()
    call_command("audit_checkpoint", "--accept-rollback")
    assert lines()[-1]["kind"] == "restore"
    assert lines()[-1]["seq"] == 3
    call_command("audit_verify")


def test_a_rollback_of_a_broken_chain_cannot_be_accepted(five_checkpointed):
    tamper("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["patient.change", 2])
    with pytest.raises(CommandError, match="refusing"):
        call_command("audit_checkpoint", "--accept-rollback")


def test_a_trail_without_checkpoints_says_so(db, nurse, capsys):
    trail.record(action="auth.login", actor=nurse)
    call_command("audit_verify")
    assert "no signed checkpoints" in capsys.readouterr().out


def test_a_checkpoint_that_cannot_be_written_does_not_fail_the_request(
    settings, nurse, tmp_path, django_capture_on_commit_callbacks, caplog
):
    settings.AUDIT_CHECKPOINT_EVERY = 1
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.AUDIT_CHECKPOINT_PATH = blocker / "checkpoints.log"
    with django_capture_on_commit_callbacks(execute=True):
        event = trail.record(action="auth.login", actor=nurse)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert "audit checkpoint could not be written" in caplog.text
