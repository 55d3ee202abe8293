"""Measurement tasks: the questionnaires due over a signed plan's course (``schedule.py``).

``tasks_sync`` makes a plan's open measures match its course (add the missing, cancel the
stale); answers already given inside a measure's window fulfil it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ketaclinic.plans.models import PlanStatus, TreatmentPlan

from . import schedule
from .definition_service import usable_definitions
from .models import MeasurementTask, Response, TaskStatus


def plan_course(plan) -> list[schedule.CourseSession]:
    return [
        schedule.CourseSession(number=s.number, on=s.date, phase=s.phase)
        for s in plan.planned_sessions.all()
    ]


def tasks_sync(plan, policy: schedule.MeasurementPolicy | None = None) -> dict[str, int]:
    """Make the plan's open measures match its course: add missing ones, cancel stale ones.

    Done and cancelled measures are kept as they are. Instruments the clinic does not have
    (or has retired) are skipped.
    """
    policy = policy or schedule.shipped_policy()
    usable = usable_definitions()
    instruments = [c for c in policy.instruments_for(plan.indication) if c in usable]
    wanted = {
        (m.instrument, m.reason, m.due_on): m
        for m in schedule.measures_due(plan_course(plan), instruments, policy)
    }
    with transaction.atomic():
        existing = {(t.instrument_id, t.reason, t.due_on): t for t in plan.measurement_tasks.all()}
        stale = [
            t.pk for key, t in existing.items() if key not in wanted and t.status == TaskStatus.OPEN
        ]
        MeasurementTask.objects.filter(pk__in=stale).update(
            status=TaskStatus.CANCELLED, closed_at=timezone.now()
        )
        new = [
            MeasurementTask(
                patient_id=plan.patient_id,
                plan=plan,
                instrument_id=m.instrument,
                reason=m.reason,
                session_number=m.session_number,
                opens_on=m.opens_on,
                due_on=m.due_on,
            )
            for key, m in wanted.items()
            if key not in existing
        ]
        MeasurementTask.objects.bulk_create(new)
        # Answers already given inside a new measure's window fulfil it.
        _fulfil_from_history(plan.patient_id)
    return {"created": len(new), "cancelled": len(stale)}


def _fulfil_from_history(patient_id: int) -> None:
    """Open measures already answered inside their window are done (after a re-plan)."""
    zone = timezone.get_current_timezone()
    for task in MeasurementTask.objects.open().filter(patient_id=patient_id):
        start = dt.datetime.combine(task.opens_on, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(task.due_on + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        answered = (
            Response.objects.completed()
            .filter(patient_id=patient_id, instrument_id=task.instrument_id)
            .filter(submitted_at__gte=start, submitted_at__lt=end)
            .order_by("submitted_at")
            .first()
        )
        if answered is not None:
            MeasurementTask.objects.filter(pk=task.pk).update(
                status=TaskStatus.DONE, response=answered, closed_at=timezone.now()
            )


def fulfil_tasks(response: Response) -> list[int]:
    """Close the open measures of this instrument whose window had opened (overdue too)."""
    day = timezone.localdate(response.submitted_at)
    tasks = list(
        MeasurementTask.objects.open()
        .filter(patient_id=response.patient_id, instrument_id=response.instrument_id)
        .filter(opens_on__lte=day)
        .values_list("pk", flat=True)
    )
    if tasks:
        MeasurementTask.objects.filter(pk__in=tasks).update(
            status=TaskStatus.DONE, response=response, closed_at=timezone.now()
        )
    return tasks


def tasks_sync_missing() -> int:
    """Schedule measures for active plans that have none yet; how many plans were synced."""
    plans = list(
        TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE, measurement_tasks__isnull=True)
        .prefetch_related("planned_sessions")
        .distinct()
    )
    for plan in plans:
        if plan.planned_sessions.all():
            tasks_sync(plan)
    return len(plans)


def due_tasks(patient_id: int | None = None, today: dt.date | None = None):
    """Open measures whose window has opened (due or overdue), soonest due first."""
    today = today or timezone.localdate()
    tasks = MeasurementTask.objects.due_by(today).select_related("instrument")
    if patient_id is not None:
        tasks = tasks.filter(patient_id=patient_id)
    return tasks.order_by("due_on", "id")
