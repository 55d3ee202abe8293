"""The "Outcomes" chart tab and the portal's questionnaires due.

Both are registered from OutcomesConfig.ready(): the tab into ``patients.chart``, the portal
section into ``patients.portal`` (patients comes earlier and may not import outcomes).
"""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.patients.models import Patient

from . import services, trajectory
from .models import InstrumentDefinition, ResponseStatus, TaskStatus


def _sync_patient_plan(patient: Patient) -> None:
    plan = services.current_plan(patient)
    if plan is not None and not plan.measurement_tasks.exists():
        services.tasks_sync(plan)


def _course_session_days(patient: Patient, marks) -> list:
    """Session days of the latest course: given ones, else the plan's planned ones."""
    plan = services.current_plan(patient) or patient.plans.filter(signed_at__isnull=False).first()
    if plan is None:
        return [timezone.localdate(m.at) for m in marks]
    given = [
        timezone.localdate(at)
        for at in plan.treatment_sessions.filter(dose_started_at__isnull=False)
        .exclude(status__in=["entered-in-error", "not_started"])
        .values_list("dose_started_at", flat=True)
    ]
    return given or [s.date for s in plan.planned_sessions.all()]


def outcomes_tab(request, patient: Patient) -> dict:
    """Loader of the chart's "Outcomes" tab."""
    _sync_patient_plan(patient)
    today = timezone.localdate()
    responses = list(
        patient.outcome_responses.select_related("entered_by", "instrument").order_by(
            "-submitted_at", "-started_at", "-id"
        )
    )
    definitions = {r.instrument_id: r.instrument for r in responses}
    marks = trajectory.session_marks(patient)
    course_days = _course_session_days(patient, marks)
    figures = []
    for code, definition in sorted(definitions.items()):
        points = [
            (r.submitted_at, r.total, r.band)
            for r in reversed(responses)
            if r.instrument_id == code and r.status == ResponseStatus.COMPLETED
        ]
        if points:
            figures.append(
                {
                    "id": f"trajectory-{code}",
                    "name": definition.name,
                    "figure": trajectory.figure(definition.instrument, points, marks, course_days),
                    "table": [
                        (r.submitted_at, r.total, r.band_label)
                        for r in reversed(responses)
                        if r.instrument_id == code and r.status == ResponseStatus.COMPLETED
                    ],
                }
            )
    tasks = list(
        patient.measurement_tasks.filter(status=TaskStatus.OPEN)
        .select_related("instrument")
        .order_by("due_on", "id")[:30]
    )
    return {
        "today": today,
        "responses": responses,
        "figures": figures,
        "session_marks": marks,
        "due_tasks": [t for t in tasks if t.opens_on <= today],
        "upcoming_tasks": [t for t in tasks if t.opens_on > today][:8],
        "safety_tasks": list(
            patient.safety_tasks.select_related("assigned_to", "resolved_by").order_by(
                "status", "-created_at"
            )[:20]
        ),
        "entry_instruments": list(InstrumentDefinition.objects.usable()),
    }


def portal_questionnaires_due(patient: Patient) -> list:
    """For the portal home: one due patient-rated questionnaire per instrument."""
    _sync_patient_plan(patient)
    seen: dict[str, object] = {}
    for task in services.due_tasks(patient.pk):
        if task.instrument.rater == "patient":
            seen.setdefault(task.instrument_id, task)
    return list(seen.values())
