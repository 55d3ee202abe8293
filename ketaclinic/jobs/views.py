"""The clinic admin's view of the background jobs: schedule, last outcome, failures."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail

from .models import Job, JobRun, Outcome
from .registry import REGISTRY

RECENT_FAILURES = 5


@login_required
def job_list(request):
    require_permission(request, "jobs.view")
    failures = JobRun.objects.filter(outcome=Outcome.FAILED).order_by("-started_at", "-pk")
    jobs = {
        job.name: job
        for job in Job.objects.prefetch_related(
            Prefetch("history", queryset=failures, to_attr="failures")
        )
    }
    rows = [
        {
            "spec": spec,
            "job": jobs.get(name),
            "failures": (jobs[name].failures[:RECENT_FAILURES] if name in jobs else []),
        }
        for name, spec in sorted(REGISTRY.jobs.items())
    ]
    trail.record(action="jobs.view", request=request)
    return render(request, "jobs/list.html", {"rows": rows})
