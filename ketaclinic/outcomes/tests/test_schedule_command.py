"""``manage.py outcomes_schedule`` keeps every active plan's measures in line with its course."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command

from ketaclinic.outcomes.models import MeasurementTask, TaskStatus
from ketaclinic.outcomes.tests.factories import make_plan, today
from ketaclinic.plans.models import PlannedSession


def test_the_command_creates_measures_and_cancels_those_of_moved_sessions(patient_a, prescriber):
    plan = make_plan(patient_a, prescriber, start=today() + dt.timedelta(days=3), status="active")
    call_command("outcomes_schedule", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert MeasurementTask.objects.filter(plan=plan, status=TaskStatus.OPEN).exists()

    PlannedSession.objects.filter(plan=plan, number=6).update(
        date=plan.start_date + dt.timedelta(days=14)
    )
    call_command("outcomes_schedule", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert MeasurementTask.objects.filter(plan=plan, status=TaskStatus.CANCELLED).exists()
