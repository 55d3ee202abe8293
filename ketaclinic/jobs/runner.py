"""The job runner: every due periodic job is claimed by exactly one runner, however many run.

``manage.py run_jobs`` on each app server (or on one) loops: claim the most overdue job,
run it, record the outcome, schedule the next run. Claiming is one short transaction:

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks a due row that no other runner is
  claiming at that instant, and the claim (holder, lease, token) commits before the job
  runs, so a second runner skips it until its next run (or until the lease expires because
  the holder's server died).
- SQLite: transactions begin IMMEDIATE (settings), so claims are serialised by the database
  lock; the same lease check then refuses a job another runner already holds. One runner per
  SQLite clinic is the supported setup (SQLite is one server anyway).

A failed run is retried with exponential back-off (30 s, 1 min, 2 min ... at most 1 hour,
never later than the job's own period would bring it), its error text kept on the job and
in its run history, which the clinic admin reads at ``/jobs/``.

Why not a library (evaluated for Django 5.2, SQLite and PostgreSQL, periodic schedules,
each run exactly once across servers):

- django-q2 (ORM broker): a multiprocess cluster with its own broker queue, task table and
  pickled payloads; exactly-once schedules across clusters rest on ``select_for_update``
  without ``skip_locked`` (django-q #231, #347, #577 discuss duplicates), and on SQLite the
  ORM broker polls a table that every worker writes. Much machinery for five periodic jobs.
- django-tasks (database backend): a good one-off task queue (the shape of Django 6's
  ``django.tasks``), but no periodic schedules; we would still write this scheduler.
- procrastinate: PostgreSQL only (LISTEN/NOTIFY), so not for the embedded SQLite clinic.
- huey (SQL storage, via peewee): periodic tasks are enqueued by every consumer's scheduler,
  so two servers run each one twice unless a single consumer is designated.
- APScheduler 3 (SQLAlchemy job store): a second ORM, and sharing one job store between
  several schedulers is explicitly unsupported by its authors.

None gives "each job once across servers + both databases + periodic schedules" without
glue larger than this module, so the runner is a small scheduler over one table.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
import uuid
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome as AuditOutcome

from .models import Job, JobRun, Outcome
from .registry import REGISTRY, JobSpec, Registry

logger = logging.getLogger("ketaclinic.jobs")

RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_MOST = dt.timedelta(hours=1)
ERROR_CHARS = 4000
HISTORY_KEPT = 50  # runs kept per job


def runner_name() -> str:
    """Who runs: the host and process, shown on the admin page."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def retry_delay(failures_in_a_row: int, every: dt.timedelta) -> dt.timedelta:
    """Exponential back-off after ``failures_in_a_row`` failures, capped.

    The delay doubles from 30 s and stops at one hour, and never waits longer than the job's
    own period would (a daily job retries within the hour, a minutely one every minute).
    """
    doubled = RETRY_FIRST * (2 ** max(failures_in_a_row - 1, 0))
    return min(doubled, RETRY_MOST, max(every, RETRY_FIRST))


def sync_jobs(registry: Registry | None = None, now: dt.datetime | None = None) -> None:
    """A row for every registered job; a new job is due at once."""
    registry = registry or REGISTRY
    now = now or timezone.now()
    known = set(Job.objects.filter(name__in=registry.names()).values_list("name", flat=True))
    missing = [Job(name=name, next_run_at=now) for name in registry.names() if name not in known]
    if missing:
        Job.objects.bulk_create(missing, ignore_conflicts=True)  # another runner may race us


@dataclass(frozen=True)
class Claim:
    job: Job
    spec: JobSpec
    token: str
    started_at: dt.datetime


def claim_next(
    *, by: str, registry: Registry | None = None, now: dt.datetime | None = None
) -> Claim | None:
    """Claim the most overdue job nobody holds, or None when nothing is due."""
    registry = registry or REGISTRY
    now = now or timezone.now()
    with transaction.atomic():
        job = (
            Job.objects.due(now, registry.names())
            .select_for_update(skip_locked=True)  # ignored on SQLite: IMMEDIATE serialises
            .order_by("next_run_at", "name")
            .first()
        )
        if job is None:
            return None
        spec = registry.get(job.name)
        token = uuid.uuid4().hex
        job.locked_by = by
        job.locked_until = now + spec.lease
        job.claim_token = token
        job.last_started_at = now
        job.last_outcome = Outcome.RUNNING
        job.last_run_by = by
        job.save(
            update_fields=[
                "locked_by",
                "locked_until",
                "claim_token",
                "last_started_at",
                "last_outcome",
                "last_run_by",
            ]
        )
    return Claim(job=job, spec=spec, token=token, started_at=now)


def run_claimed(claim: Claim, *, by: str, now=None) -> JobRun:
    """Run a claimed job and record its outcome; a job's exception never stops the runner."""
    message, error = "", ""
    try:
        message = claim.spec.run() or ""
    except Exception:
        error = traceback.format_exc()[-ERROR_CHARS:]
        logger.exception("job %s failed", claim.spec.name)
    return finish(claim, by=by, message=str(message), error=error, now=now)


def finish(claim: Claim, *, by: str, message: str, error: str, now=None) -> JobRun:
    finished = now or timezone.now()
    spec = claim.spec
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=claim.job.pk)
        failures = job.failures_in_a_row + 1 if error else 0
        run = JobRun.objects.create(
            job=job,
            started_at=claim.started_at,
            finished_at=finished,
            outcome=Outcome.FAILED if error else Outcome.SUCCEEDED,
            message=message[:ERROR_CHARS],
            error=error,
            host=by,
            attempt=failures or 1,
        )
        if job.claim_token != claim.token:
            # Our lease ran out and another runner took the job over: keep our run in the
            # history, leave the schedule to the new holder.
            return run
        job.locked_by, job.locked_until, job.claim_token = "", None, ""
        job.last_finished_at = finished
        job.last_outcome = run.outcome
        job.last_message = run.message
        job.failures_in_a_row = failures
        job.runs += 1
        if error:
            job.last_error = error
            job.next_run_at = finished + retry_delay(failures, spec.every)
        else:
            job.next_run_at = finished + spec.every
        job.save()
        stale = JobRun.objects.filter(job=job).values_list("pk", flat=True)[HISTORY_KEPT:]
        JobRun.objects.filter(pk__in=list(stale)).delete()
        if error:
            trail.record(
                action="job.failed",
                actor_username="run_jobs",
                outcome=AuditOutcome.FAILED,
                detail={"job": spec.name, "host": by, "failures_in_a_row": failures},
            )
    return run


def run_due(
    *, by: str | None = None, registry: Registry | None = None, limit: int = 100
) -> list[JobRun]:
    """Run every job that is due now, one claim at a time; returns the runs made."""
    by = by or runner_name()
    registry = registry or REGISTRY
    sync_jobs(registry)
    runs = []
    for _ in range(limit):
        claim = claim_next(by=by, registry=registry)
        if claim is None:
            break
        runs.append(run_claimed(claim, by=by))
    return runs


def run_forever(*, stop: threading.Event, poll_seconds: float = 5.0, by: str | None = None) -> None:
    """The runner's loop until ``stop`` is set (SIGTERM/SIGINT in ``run_jobs``)."""
    by = by or runner_name()
    logger.info("job runner %s started (%s jobs)", by, len(REGISTRY.names()))
    while not stop.is_set():
        close_old_connections()
        try:
            run_due(by=by)
        except Exception:
            logger.exception("job runner %s could not claim jobs; retrying", by)
            connection.close()
        stop.wait(poll_seconds)
    logger.info("job runner %s stopped", by)
