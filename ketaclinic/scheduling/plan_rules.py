"""The signed plan behind dosing visits, and the visits a plan asks for.

A dosing visit or course needs the patient's active signed plan for its route, and a course
books the plan's planned sessions (numbers and dates). A prescriber may book past either rule
with a reason, recorded on the booking; anyone else is refused, and the refusal audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.protocols.models import Protocol

from .models import (
    Appointment,
    AppointmentType,
)

# How the rules name a route's dosing visits to the front desk.
ROUTE_WORDS = {
    "iv": ("IV ketamine", "infusions"),
    "im": ("IM ketamine", "injections"),
    "esketamine": ("esketamine", "esketamine sessions"),
}


def active_plan(patient) -> TreatmentPlan | None:
    """The patient's active signed plan (the database allows at most one)."""
    return (
        TreatmentPlan.objects.filter(
            patient=patient, status=PlanStatus.ACTIVE, signed_at__isnull=False
        )
        .select_related("protocol")
        .first()
    )


def route_of(kind: AppointmentType) -> str:
    protocol = Protocol.objects.filter(code=kind.protocol_code).only("route").first()
    return protocol.route if protocol else ""


def plan_gap(patient, kind: AppointmentType) -> tuple[TreatmentPlan | None, str]:
    """The active plan behind a dosing visit, and what is missing when it does not cover it.

    Consultations, therapy and follow-ups (no protocol) need no plan.
    """
    if not kind.is_treatment:
        return None, ""
    plan, route = active_plan(patient), route_of(kind)
    label, noun = ROUTE_WORDS.get(route, (kind.name, f"{kind.name} visits"))
    if plan is None:
        return (
            None,
            f"No active signed treatment plan for {label}: sign a plan before booking {noun}.",
        )
    if route and plan.route != route:
        return plan, (
            f"The active signed plan is for {plan.get_route_display()} ({plan.protocol.name}), "
            f"not {label}: sign a {label} plan before booking {noun}."
        )
    return plan, ""


def override_or_refuse(
    request, patient, *, rule: str, missing: str, override_reason: str, action: str
) -> dict:
    """A prescriber may book past a plan rule with a reason; anyone else is refused (422).

    The refusal is audited; the override, returned here, goes on the event and audit row.
    """
    reason = (override_reason or "").strip()
    prescriber = request.user.role == Role.PRESCRIBER
    if reason and prescriber:
        return {"rule": rule, "missing": missing, "reason": reason[:500]}
    field, message = (
        ("override_reason", f"Only a prescriber may override this: {missing}")
        if reason
        else (rule, f"{missing} (A prescriber may override with a reason.)")
    )
    trail.record(
        action=action,
        request=request,
        patient=patient,
        outcome=Outcome.REFUSED,
        detail={"rule": rule, "missing": missing, "override_by_non_prescriber": bool(reason)},
    )
    raise ValidationError({field: message})


def plan_overrides(request, patient, kind, override_reason: str, action: str) -> list[dict]:
    _, missing = plan_gap(patient, kind)
    if not missing:
        return []
    return [
        override_or_refuse(
            request,
            patient,
            rule="plan",
            missing=missing,
            override_reason=override_reason,
            action=action,
        )
    ]


def course_type_for(plan: TreatmentPlan) -> AppointmentType | None:
    """The dosing visit that matches a plan: its protocol's type, else one of its route."""
    exact = AppointmentType.objects.filter(protocol_code=plan.protocol.code).first()
    if exact is not None:
        return exact
    for kind in AppointmentType.objects.exclude(protocol_code=""):
        if route_of(kind) == plan.route:
            return kind
    return None


@dataclass(frozen=True)
class CourseItem:
    """One visit of a course: the date, and optionally the exact place the desk chose."""

    number: int
    date: dt.date
    type: AppointmentType
    starts_at: dt.datetime | None = None
    chair_id: int | None = None
    staff_id: int | None = None


def plan_items(plan: TreatmentPlan, *, now: dt.datetime | None = None) -> list[CourseItem]:
    """The plan's planned sessions still to book: not past, not already booked from it."""
    kind = course_type_for(plan)
    if kind is None:
        return []
    today = timezone.localdate(now or timezone.now())
    booked = set(
        Appointment.objects.holding()
        .filter(patient_id=plan.patient_id, course_key=plan_course_key(plan))
        .values_list("course_number", flat=True)
    )
    return [
        CourseItem(number=session.number, date=session.date, type=kind)
        for session in plan.planned_sessions.order_by("number")
        if session.date >= today and session.number not in booked
    ]


def plan_course_key(plan: TreatmentPlan) -> str:
    return f"plan-{plan.pk}"


def off_plan(plan: TreatmentPlan | None, items: Sequence[CourseItem]) -> list[str]:
    """Visits whose number and date are not one of the plan's planned sessions."""
    if plan is None:
        return []
    planned = dict(plan.planned_sessions.values_list("number", "date"))
    off = []
    for item in items:
        if planned.get(item.number) == item.date:
            continue
        where = (
            f"the plan has it on {planned[item.number]:%a %d %b %Y}"
            if item.number in planned
            else "the plan has no such session"
        )
        off.append(f"visit {item.number} on {item.date:%a %d %b %Y} ({where})")
    return off


def course_overrides(request, patient, items, override_reason: str) -> tuple:
    """The plan a dosing course is booked from, and any prescriber overrides it needed."""
    kinds = {item.type.pk: item.type for item in items if item.type.is_treatment}
    if not kinds:
        return None, []
    overrides = []
    for kind in kinds.values():
        overrides += plan_overrides(request, patient, kind, override_reason, "course.book")
    plan = active_plan(patient)
    off = off_plan(plan, items)
    if off:
        missing = (
            "These dates are not the signed plan's planned sessions: "
            + "; ".join(off)
            + ". Book the plan's dates"
        )
        overrides.append(
            override_or_refuse(
                request,
                patient,
                rule="visits",
                missing=missing + ".",
                override_reason=override_reason,
                action="course.book",
            )
        )
    return plan, overrides
