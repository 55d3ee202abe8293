"""The "Screening & plan" chart tab, registered into ``patients.chart`` from PlansConfig.ready()."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.patients.models import Patient
from ketaclinic.screening import services as screening_services
from ketaclinic.screening import validity

from . import proposal, services
from .models import PlanStatus


def screening_plan_tab(request, patient: Patient) -> dict:
    plans = list(
        patient.plans.select_related("protocol", "signed_by", "screening").prefetch_related(
            "planned_sessions"
        )
    )
    current = next((p for p in plans if p.status == PlanStatus.ACTIVE), None) or next(
        (p for p in plans if p.is_draft), None
    )
    course = []
    if current is not None:
        course = (
            services.proposed_course(current)
            if current.is_draft
            else list(current.planned_sessions.all())
        )
    context = {
        "today": timezone.localdate(),
        "valid_days": validity.policy().valid_days,
        "valid_days_sources": validity.policy().sources,
        "plans": plans,
        "current_plan": current,
        "strip": proposal.calendar_strip(course),
        "course_is_preview": current is not None and current.is_draft,
    }
    if can(request.user, "screening.view"):
        snapshot = screening_services.record_snapshot(patient)
        backing = {p.screening_id: p for p in plans if p.status != PlanStatus.ENTERED_IN_ERROR}
        screenings = list(patient.screenings.select_related("signed_by", "answered_by"))
        rows = [
            {
                "screening": s,
                "backs": backing.get(s.pk),
                # Backing a plan is shown as such, not as a problem.
                "problems": screening_services.usability_problems(s, snapshot=snapshot, used=set())
                if s.is_signed
                else [],
            }
            for s in screenings
        ]
        context.update(
            screenings=rows,
            snapshot=snapshot,
            usable_screening=any(
                row["screening"].signed_eligible and not row["problems"] and not row["backs"]
                for row in rows
            ),
        )
    return context
