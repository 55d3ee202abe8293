"""On PostgreSQL a runner passes over a job row another runner is claiming, without waiting."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from ketaclinic.jobs import runner
from ketaclinic.jobs.models import Job
from ketaclinic.jobs.registry import JobSpec, Registry, timedelta

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises claims instead"
    ),
]


def test_a_runner_skips_the_row_another_runner_is_claiming():
    registry = Registry()
    for name in ("alpha", "beta"):
        registry.add(JobSpec(name=name, description=name, every=timedelta(hours=1), run=str))
    runner.sync_jobs(registry)
    Job.objects.filter(name="alpha").update(next_run_at=Job.objects.get(name="beta").next_run_at)
    locked, release = threading.Event(), threading.Event()

    def other_runner_mid_claim():
        try:
            with transaction.atomic():
                Job.objects.select_for_update().get(name="alpha")
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    other = threading.Thread(target=other_runner_mid_claim)
    other.start()
    try:
        assert locked.wait(timeout=30)
        claim = runner.claim_next(by="host-b", registry=registry)
    finally:
        release.set()
        other.join(timeout=30)

    assert claim.job.name == "beta"
    assert runner.claim_next(by="host-b", registry=registry).job.name == "alpha"
