"""The clinic admin sees every job: schedule, last outcome, who ran it, failures with errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.jobs import runner
from ketaclinic.jobs.models import Job, JobRun, Outcome
from ketaclinic.jobs.registry import REGISTRY


@pytest.fixture
def ran_jobs(db):
    runner.sync_jobs()
    job = Job.objects.get(name="send_reminders")
    job.last_outcome = Outcome.FAILED
    job.last_run_by = "app-2 pid 4242"
    job.failures_in_a_row = 2
    job.last_started_at = job.next_run_at
    job.save()
    JobRun.objects.create(
        job=job,
        started_at=job.next_run_at,
        finished_at=job.next_run_at,
        outcome=Outcome.FAILED,
        error="SMTPServerDisconnected: Connection unexpectedly closed",
        host="app-2 pid 4242",
        attempt=2,
    )
    return job


def test_the_clinic_admin_sees_each_job_with_its_failures(clinic_admin, ran_jobs):
    response = signed_in(clinic_admin).get("/jobs/")

    assert response.status_code == 200
    page = response.content.decode()
    for name in REGISTRY.names():
        assert name in page
    assert "app-2 pid 4242" in page
    assert "Failed" in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page
    event = AuditEvent.objects.filter(action="jobs.view").latest("seq")
    assert event.actor_id == clinic_admin.pk


def test_a_job_whose_runner_died_says_another_runner_will_take_it_over(clinic_admin, ran_jobs):
    ran_jobs.locked_by = "app-1 pid 7"
    ran_jobs.locked_until = timezone.now() - dt.timedelta(minutes=1)
    ran_jobs.save()

    page = signed_in(clinic_admin).get("/jobs/").content.decode()

    assert "another runner will take it over" in page


def test_the_clinic_admin_finds_the_page_in_the_menu(clinic_admin, front_desk):
    assert 'href="/jobs/"' in signed_in(clinic_admin).get("/jobs/").content.decode()
    assert 'href="/jobs/"' not in signed_in(front_desk).get("/patients/").content.decode()


def test_a_job_that_never_ran_says_so(clinic_admin):
    page = signed_in(clinic_admin).get("/jobs/").content.decode()

    assert "not yet" in page
    assert "when a runner starts" in page


def test_the_page_costs_the_same_queries_however_many_failures(
    clinic_admin, ran_jobs, django_assert_max_num_queries
):
    client = signed_in(clinic_admin)
    with django_assert_max_num_queries(12):
        client.get("/jobs/")


@pytest.mark.parametrize("who", ["prescriber", "nurse", "front_desk", "therapist"])
def test_other_staff_are_refused(cast, who):
    assert signed_in(cast[who]).get("/jobs/").status_code == 403


def test_a_patient_and_an_outsider_are_refused(cast):
    assert signed_in(cast["patient_a"]).get("/jobs/").status_code == 403
    assert signed_in(cast["outsider"]).get("/jobs/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(db):
    response = Client().get("/jobs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
