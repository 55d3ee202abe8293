"""Treatment-plan writes: create a draft, sign it (snapshotting the proposed course), amend the
dose, end the plan. Each validates with the pure cores (dosing on the clinic's protocol,
schedule proposal), saves and audits in one transaction; a rejected write leaves an
``invalid`` audit row and stores nothing.

The checks shared by create and sign live in :mod:`.checks`, the dose amendment in
:mod:`.dose_amendment`; this module is the plans' service face and re-exports both.

Nothing proceeds without a signed, eligible, unexpired and not stale screening that backs no
other plan; one active plan per patient (database constraint; a second answers
:class:`PlanConflict`, HTTP 409).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.audit.trail import reject
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.catalog import DoseBasis
from ketaclinic.protocols.models import Protocol
from ketaclinic.screening.models import Screening

from . import schedule, sign_hooks
from .checks import (
    apply_dose,
    course_or_refusal,
    decimal_input,
    keep_applicable,
    proposed_course,
    validate,
    weight_for,
)
from .dose_amendment import next_session_number, plan_amend_dose
from .models import (
    NEEDS_REASON,
    TRANSITIONS,
    PlannedSession,
    PlanStatus,
    TreatmentPlan,
)

__all__ = [
    "AUDITED_FIELDS",
    "PLAN_INPUTS",
    "PlanConflict",
    "next_session_number",
    "plan_amend_dose",
    "plan_create",
    "plan_sign",
    "plan_transition",
    "proposed_course",
    "snapshot",
]

PLAN_INPUTS = [
    "screening",
    "protocol",
    "dose_mg_per_kg",
    "dose_mg",
    "infusion_minutes",
    "override_reason",
    "schedule_code",
    "start_date",
    "working_weekdays",
    "interval_weeks",
    "session_count",
    "horizon_weeks",
    "maintenance_weekly",
    "concurrent_oral_antidepressant",
    "psychotherapy_plan",
    "therapist",
]
AUDITED_FIELDS = [
    "indication",
    "route",
    "dose_mg_per_kg",
    "dose_mg",
    "rate_mg_per_min",
    "infusion_minutes",
    "devices",
    "dose_warnings",
    "override_reason",
    "weight_kg",
    "weight_measured_on",
    "schedule_code",
    "start_date",
    "working_weekdays",
    "interval_weeks",
    "session_count",
    "horizon_weeks",
    "maintenance_weekly",
    "concurrent_oral_antidepressant",
    "psychotherapy_plan",
    "therapist_id",
]


class PlanConflict(Exception):
    """The patient already has an active plan (HTTP 409)."""

    def __init__(self, message: str, existing: TreatmentPlan | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.existing = existing


def snapshot(plan: TreatmentPlan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in AUDITED_FIELDS}


# --- Create ---------------------------------------------------------------------------------


def plan_create(*, request, patient: Patient, data: dict[str, Any]) -> TreatmentPlan:
    """Store a draft plan from ``data`` (``PLAN_INPUTS``; screening and protocol as objects or
    ids/codes), with the dose computed on the clinic's protocol and the current weight."""
    action = "plan.create"
    today = timezone.localdate()
    try:
        plan = _build(patient, data, request.user)
        validate(plan, today)
        keep_applicable(plan)
        weight_for(plan)
        apply_dose(plan, today)
        course_or_refusal(plan)
        plan.full_clean(exclude=["created_by"])
    except ValidationError as error:
        reject(request, action, error, patient.pk)
    with transaction.atomic():
        plan.save(force_insert=True)
        trail.record(
            action=action,
            request=request,
            patient=patient,
            target=plan,
            detail={
                "screening": plan.screening_id,
                "protocol": plan.protocol.code,
                "fields": snapshot(plan),
            },
        )
    return plan


def _build(patient: Patient, data: dict[str, Any], user) -> TreatmentPlan:
    unknown = set(data) - set(PLAN_INPUTS)
    if unknown:
        raise ValidationError({name: "Not a plan field." for name in sorted(unknown)})
    screening = data.get("screening")
    if not isinstance(screening, Screening):
        screening = Screening.objects.filter(pk=screening, patient=patient).first()
    if screening is None:
        raise ValidationError({"screening": "Choose a signed screening of this patient."})
    protocol = data.get("protocol")
    if not isinstance(protocol, Protocol):
        protocol = Protocol.objects.filter(code=protocol).first()
    if protocol is None:
        known = ", ".join(Protocol.objects.active().values_list("code", flat=True))
        raise ValidationError({"protocol": f"Unknown protocol; the catalog has {known}."})
    if data.get("dose_mg_per_kg") is not None and data.get("dose_mg") is not None:
        raise ValidationError({"dose_mg": "Give either the dose in mg/kg or in mg, not both."})
    if data.get("dose_mg_per_kg") is None and data.get("dose_mg") is None:
        raise ValidationError(
            {
                "dose_mg_per_kg" if protocol.dose_basis == DoseBasis.MG_PER_KG else "dose_mg": (
                    "Give the dose."
                )
            }
        )
    therapist = data.get("therapist")
    therapist_id = getattr(therapist, "pk", therapist)
    plan = TreatmentPlan(
        patient=patient,
        screening=screening,
        protocol=protocol,
        indication=screening.indication,
        route=screening.route,
        dose_mg_per_kg=decimal_input(data.get("dose_mg_per_kg"), "dose_mg_per_kg"),
        dose_mg=decimal_input(data.get("dose_mg"), "dose_mg") or Decimal(0),
        infusion_minutes=data.get("infusion_minutes"),
        override_reason=(data.get("override_reason") or "").strip(),
        schedule_code=data.get("schedule_code") or "",
        start_date=data.get("start_date"),
        working_weekdays=list(data.get("working_weekdays") or []),
        interval_weeks=data.get("interval_weeks"),
        session_count=data.get("session_count"),
        horizon_weeks=data.get("horizon_weeks"),
        maintenance_weekly=bool(data.get("maintenance_weekly")),
        concurrent_oral_antidepressant=(data.get("concurrent_oral_antidepressant") or "").strip(),
        psychotherapy_plan=(data.get("psychotherapy_plan") or "").strip(),
        therapist_id=therapist_id,
        created_by=user,
    )
    return plan


# --- Sign -----------------------------------------------------------------------------------


def plan_sign(*, request, plan: TreatmentPlan) -> TreatmentPlan:
    """A prescriber signs a draft: every check again, then the course snapshot, then active.

    Raises ``ValidationError`` (422) or :class:`PlanConflict` (409, another active plan).
    """
    action = "plan.sign"
    course = _signable_course(request, plan)
    try:
        with transaction.atomic():
            locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
            if locked.status != PlanStatus.DRAFT:
                raise ValidationError({"status": "Someone else signed or struck out this plan."})
            _activate(request, plan, course)
    except IntegrityError:
        # Lost a race with another signature for this patient: the constraint held.
        plan.refresh_from_db()
        _conflict(request, plan, _active_plan(plan))
    except ValidationError as error:
        plan.refresh_from_db()
        reject(request, action, error, plan.patient_id)
    return plan


def _signable_course(request, plan: TreatmentPlan) -> list[schedule.ProposedSession]:
    """The course the draft gets if this prescriber may sign it now; else refused (422/409).

    Every create-time check runs again (the record may have changed since the draft), and the
    dose is computed again on today's weight.
    """
    action = "plan.sign"
    today = timezone.localdate()
    if not can(request.user, "plan.sign"):
        reject(
            request,
            action,
            ValidationError({"signed_by": "Only a prescriber signs a plan."}),
            plan.patient_id,
        )
    if not plan.is_draft:
        reject(
            request,
            action,
            ValidationError({"status": f"This plan is {plan.status}, not a draft."}),
            plan.patient_id,
        )
    try:
        validate(plan, today)
        apply_dose(plan, today)
        course = course_or_refusal(plan)
    except ValidationError as error:
        plan.refresh_from_db()
        reject(request, action, error, plan.patient_id)
    existing = _active_plan(plan)
    if existing is not None:
        _conflict(request, plan, existing)
    return course


def _activate(request, plan: TreatmentPlan, course: list[schedule.ProposedSession]) -> None:
    """Make the plan active with its course as planned sessions, and audit the signature."""
    plan.status = PlanStatus.ACTIVE
    plan.signed_by = request.user
    plan.signed_at = timezone.now()
    plan.induction_sessions = sum(1 for s in course if s.phase == "induction") or None
    plan.save()
    PlannedSession.objects.bulk_create(
        PlannedSession(plan=plan, number=s.number, date=s.date, phase=s.phase) for s in course
    )
    # Later apps' part of signing (outcomes: the measures due over the course).
    sign_hooks.plan_signed(plan)
    trail.record(
        action="plan.sign",
        request=request,
        patient_id=plan.patient_id,
        target=plan,
        detail={
            "status": [PlanStatus.DRAFT, PlanStatus.ACTIVE],
            "screening": plan.screening_id,
            "dose": snapshot(plan),
            "course": [s.as_dict() for s in course],
        },
    )


def _active_plan(plan: TreatmentPlan) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(patient_id=plan.patient_id, status=PlanStatus.ACTIVE)
        .exclude(pk=plan.pk)
        .first()
    )


def _conflict(request, plan: TreatmentPlan, existing: TreatmentPlan | None) -> None:
    message = (
        "This patient already has an active plan"
        + (f" (#{existing.pk}, signed {existing.signed_at:%Y-%m-%d})" if existing else "")
        + ": complete or stop it before signing another."
    )
    trail.record(
        action="plan.sign",
        request=request,
        patient_id=plan.patient_id,
        target=plan,
        outcome=Outcome.REFUSED,
        detail={"conflict": message, "active_plan": existing.pk if existing else None},
    )
    raise PlanConflict(message, existing)


# --- End or strike out ----------------------------------------------------------------------


def plan_transition(
    *, request, plan: TreatmentPlan, status: str, reason: str = ""
) -> TreatmentPlan:
    """Move an active plan to completed or stopped, or strike a plan out (entered-in-error).
    Signing (draft -> active) goes through :func:`plan_sign`."""
    action = f"plan.{status.replace('-', '_')}" if status in PlanStatus.values else "plan.status"
    reason = (reason or "").strip()
    try:
        if not can(request.user, "plan.amend"):
            raise ValidationError({"status": "Only a prescriber ends or strikes out a plan."})
        if status not in PlanStatus.values:
            raise ValidationError({"status": f"Unknown status {status!r}."})
        if status == PlanStatus.ACTIVE:
            raise ValidationError({"status": "A plan becomes active when a prescriber signs it."})
        if status not in TRANSITIONS[plan.status]:
            raise ValidationError(
                {"status": f"A {plan.get_status_display().lower()} plan cannot become {status}."}
            )
        if status in NEEDS_REASON and not reason:
            raise ValidationError({"reason": "Say why."})
    except ValidationError as error:
        reject(request, action, error, plan.patient_id)
    previous = plan.status
    with transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != previous:
            reject(
                request,
                action,
                ValidationError({"status": "The plan changed meanwhile; reload it."}),
                plan.patient_id,
            )
        plan.status = status
        plan.end_reason = reason[:300]
        plan.ended_at = timezone.now()
        plan.save(update_fields=["status", "end_reason", "ended_at"])
        trail.record(
            action=action,
            request=request,
            patient_id=plan.patient_id,
            target=plan,
            detail={"status": [previous, status], "reason": plan.end_reason},
        )
    return plan
