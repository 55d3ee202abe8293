"""Safety tasks: every flag a questionnaire raises (suicidal ideation) becomes an urgent task.

The task is opened for the patient's prescriber in the same transaction as the answers, so
a flagged questionnaire cannot be saved without it; it closes only when a clinician
documents the follow-up (what was done, and a note).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.trail import reject
from ketaclinic.patients.models import CareRole, Patient

from .models import (
    FollowUpAction,
    InstrumentDefinition,
    Response,
    SafetyTask,
    SafetyTaskStatus,
)


def care_team_prescriber(patient: Patient):
    """The patient's prescriber from the care team (latest recorded), else None."""
    member = (
        patient.care_team.valid()
        .filter(role=CareRole.PRESCRIBER, user__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("-recorded_at", "-id")
        .first()
    )
    return member.user if member else None


def raise_safety_tasks(request, response: Response, definition: InstrumentDefinition):
    """One urgent task per flag, for the prescriber; never silent, never only an email."""
    if not response.flags:
        return []
    instrument = definition.instrument
    assignee = care_team_prescriber(response.patient)
    if assignee is None and response.plan_id:
        assignee = response.plan.signed_by
    tasks = []
    for code in response.flags:
        rules = [f for f in instrument.flags if f.code == code]
        finding = "; ".join(
            f"{instrument.name} item {rule.item} answered "
            f"{_option_text(instrument, rule.item, response.answers[rule.item - 1])!r}"
            for rule in rules
        )
        task = SafetyTask.objects.create(
            patient=response.patient,
            response=response,
            flag=code,
            finding=finding[:300] or code,
            assigned_to=assignee,
        )
        trail.record(
            action="safety_task.create",
            request=request,
            patient=response.patient,
            target=task,
            detail={
                "flag": code,
                "finding": task.finding,
                "assigned_to": assignee.username if assignee else None,
            },
            actor_username=""
            if response.entered_by_id
            else f"patient link ({response.patient.mrn})",
        )
        tasks.append(task)
    return tasks


def _option_text(instrument, item: int, value: int | None) -> str:
    try:
        return instrument.item(item).option(value).text
    except (KeyError, IndexError):
        return str(value)


def safety_task_resolve(*, request, task: SafetyTask, action: str, note: str) -> SafetyTask:
    """Document the follow-up of a safety task; it closes only with an action and a note."""
    errors = {}
    if action not in FollowUpAction.values:
        errors["follow_up_action"] = "Choose what was done."
    if not (note or "").strip():
        errors["follow_up_note"] = "Describe the follow-up (who was reached, risk, plan)."
    if errors:
        reject(request, "safety_task.resolve", ValidationError(errors), task.patient_id)
    with transaction.atomic():
        locked = SafetyTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != SafetyTaskStatus.OPEN:
            raise ValidationError({"follow_up_note": "This follow-up is already documented."})
        locked.status = SafetyTaskStatus.RESOLVED
        locked.follow_up_action = action
        locked.follow_up_note = note.strip()
        locked.resolved_by = request.user
        locked.resolved_at = timezone.now()
        locked.save()
        trail.record(
            action="safety_task.resolve",
            request=request,
            patient_id=locked.patient_id,
            target=locked,
            detail={"flag": locked.flag, "action": action, "note": locked.follow_up_note},
        )
    return locked


def open_safety_tasks(user=None):
    """Open safety tasks, the user's own first, then unassigned, then the rest."""
    tasks = SafetyTask.objects.open().select_related("patient", "assigned_to", "response")
    if user is None:
        return tasks.order_by("created_at", "id")
    mine_first = Case(
        When(assigned_to=user, then=Value(0)),
        When(assigned_to__isnull=True, then=Value(1)),
        default=Value(2),
    )
    return tasks.order_by(mine_first, "created_at", "id")
