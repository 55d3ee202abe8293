"""Claiming, retrying with back-off and recording jobs, on whichever database the suite uses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.models import Outcome as AuditOutcome
from ketaclinic.jobs import runner
from ketaclinic.jobs.models import Job, JobRun, Outcome
from ketaclinic.jobs.registry import REGISTRY, JobSpec, Registry, register_command

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


class Calls:
    def __init__(self, fail_times: int = 0):
        self.count = 0
        self.fail_times = fail_times

    def __call__(self) -> str:
        self.count += 1
        if self.count <= self.fail_times:
            raise RuntimeError(f"mail server unreachable (try {self.count})")
        return f"ran {self.count}"


def registry_with(**jobs) -> Registry:
    registry = Registry()
    for name, run in jobs.items():
        registry.add(JobSpec(name=name, description=f"{name} job", every=HOUR, run=run))
    return registry


def test_a_new_job_is_due_at_once_and_runs_then_waits_its_period():
    calls = Calls()
    registry = registry_with(tidy=calls)

    runs = runner.run_due(by="host-a pid 1", registry=registry)

    assert [run.outcome for run in runs] == [Outcome.SUCCEEDED]
    job = Job.objects.get(name="tidy")
    assert job.last_outcome == Outcome.SUCCEEDED
    assert job.last_message == "ran 1"
    assert job.last_run_by == "host-a pid 1"
    assert job.locked_by == ""
    assert job.locked_until is None
    assert job.next_run_at - job.last_finished_at == HOUR
    assert runner.run_due(by="host-a pid 1", registry=registry) == []
    assert calls.count == 1


def test_a_claimed_job_is_not_claimed_by_a_second_runner():
    registry = registry_with(tidy=Calls())
    runner.sync_jobs(registry)

    first = runner.claim_next(by="host-a", registry=registry)
    second = runner.claim_next(by="host-b", registry=registry)

    assert first is not None
    assert first.job.name == "tidy"
    assert second is None
    job = Job.objects.get(name="tidy")
    assert job.locked_by == "host-a"
    assert job.last_outcome == Outcome.RUNNING


def test_a_job_whose_runner_died_is_claimed_again_after_its_lease():
    registry = registry_with(tidy=Calls())
    runner.sync_jobs(registry)
    first = runner.claim_next(by="host-a", registry=registry)

    later = timezone.now() + first.spec.lease + dt.timedelta(seconds=1)
    second = runner.claim_next(by="host-b", registry=registry, now=later)

    assert second is not None
    assert second.token != first.token
    # The presumed-dead runner finishing late leaves the new holder's claim alone.
    runner.finish(first, by="host-a", message="late", error="")
    job = Job.objects.get(name="tidy")
    assert job.locked_by == "host-b"
    assert job.claim_token == second.token
    assert JobRun.objects.filter(job=job, host="host-a").count() == 1


def test_the_most_overdue_job_is_claimed_first():
    registry = registry_with(alpha=Calls(), beta=Calls())
    runner.sync_jobs(registry)
    Job.objects.filter(name="beta").update(next_run_at=timezone.now() - HOUR)

    assert runner.claim_next(by="host-a", registry=registry).job.name == "beta"


def test_a_job_no_longer_registered_is_never_claimed():
    runner.sync_jobs(registry_with(retired=Calls()))

    assert runner.claim_next(by="host-a", registry=registry_with()) is None


def test_a_failure_is_recorded_with_its_error_and_retried_after_a_pause():
    calls = Calls(fail_times=2)
    registry = registry_with(remind=calls)

    [run] = runner.run_due(by="host-a", registry=registry)

    assert run.outcome == Outcome.FAILED
    assert "mail server unreachable (try 1)" in run.error
    job = Job.objects.get(name="remind")
    assert job.last_outcome == Outcome.FAILED
    assert job.failures_in_a_row == 1
    assert "RuntimeError: mail server unreachable (try 1)" in job.last_error
    assert job.next_run_at - job.last_finished_at == runner.RETRY_FIRST
    assert job.locked_until is None
    event = AuditEvent.objects.filter(action="job.failed").latest("seq")
    assert event.outcome == AuditOutcome.FAILED
    assert event.detail["job"] == "remind"
    # Not retried before its pause is over.
    assert runner.run_due(by="host-a", registry=registry) == []


def test_back_off_doubles_then_success_resets_the_count():
    calls = Calls(fail_times=2)
    registry = registry_with(remind=calls)
    runner.run_due(by="host-a", registry=registry)
    Job.objects.filter(name="remind").update(next_run_at=timezone.now())

    runner.run_due(by="host-a", registry=registry)
    job = Job.objects.get(name="remind")
    assert job.failures_in_a_row == 2
    assert job.next_run_at - job.last_finished_at == 2 * runner.RETRY_FIRST

    Job.objects.filter(name="remind").update(next_run_at=timezone.now())
    runner.run_due(by="host-a", registry=registry)
    job.refresh_from_db()
    assert job.last_outcome == Outcome.SUCCEEDED
    assert job.failures_in_a_row == 0
    assert job.next_run_at - job.last_finished_at == HOUR
    assert list(JobRun.objects.filter(job=job).values_list("outcome", flat=True)) == [
        Outcome.SUCCEEDED,
        Outcome.FAILED,
        Outcome.FAILED,
    ]


@pytest.mark.parametrize(
    ("failures", "every", "delay"),
    [
        (1, dt.timedelta(days=1), dt.timedelta(seconds=30)),
        (2, dt.timedelta(days=1), dt.timedelta(minutes=1)),
        (5, dt.timedelta(days=1), dt.timedelta(minutes=8)),
        (20, dt.timedelta(days=1), dt.timedelta(hours=1)),
        (5, dt.timedelta(minutes=1), dt.timedelta(minutes=1)),
        (3, dt.timedelta(seconds=5), dt.timedelta(seconds=30)),
    ],
)
def test_retry_delay_doubles_and_is_capped(failures, every, delay):
    assert runner.retry_delay(failures, every) == delay


def test_one_failing_job_does_not_stop_the_others():
    good = Calls()
    registry = registry_with(broken=Calls(fail_times=99), fine=good)

    runs = runner.run_due(by="host-a", registry=registry)

    assert {run.job.name: run.outcome for run in runs} == {
        "broken": Outcome.FAILED,
        "fine": Outcome.SUCCEEDED,
    }
    assert good.count == 1


def test_the_run_history_is_bounded(monkeypatch):
    monkeypatch.setattr(runner, "HISTORY_KEPT", 3)
    registry = registry_with(tidy=Calls())
    for _ in range(5):
        Job.objects.filter(name="tidy").update(next_run_at=timezone.now())
        runner.run_due(by="host-a", registry=registry)

    job = Job.objects.get(name="tidy")
    assert job.runs == 5
    assert JobRun.objects.filter(job=job).count() == 3


def test_the_clinics_periodic_commands_are_registered():
    assert {"send_reminders", "prune_ingestion_keys", "outcomes_schedule", "audit_checkpoint"} <= (
        set(REGISTRY.names())
    )


def test_registering_a_different_job_under_a_taken_name_is_refused():
    registry = Registry()
    register_command("send_reminders", every=HOUR, description="a", registry=registry)

    with pytest.raises(ValueError, match="already registered"):
        register_command("send_reminders", every=2 * HOUR, description="b", registry=registry)


def test_a_registered_command_keeps_what_it_printed(tmp_path):
    registry = Registry()
    register_command(
        "prune_ingestion_keys", "--hours", "48", every=HOUR, description="x", registry=registry
    )

    [run] = runner.run_due(by="host-a", registry=registry)

    assert run.outcome == Outcome.SUCCEEDED
    assert run.message == "pruned 0 idempotency keys older than 48 h"
