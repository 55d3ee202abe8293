"""Treatment-plan writes: create a draft, sign it (snapshotting the proposed course), amend the
dose, end the plan. Each validates with the pure cores (dosing on the clinic's protocol,
schedule proposal), saves and audits in one transaction; a rejected write leaves an
``invalid`` audit row and stores nothing.

Nothing proceeds without a signed, eligible, unexpired and not stale screening that backs no
other plan; one active plan per patient (database constraint; a second answers
:class:`PlanConflict`, HTTP 409).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.outcomes import services as outcome_services
from ketaclinic.patients.models import CareRole, Patient
from ketaclinic.patients.services import reject
from ketaclinic.protocols import dosing
from ketaclinic.protocols.catalog import DoseBasis
from ketaclinic.protocols.models import Protocol
from ketaclinic.screening import services as screening_services
from ketaclinic.screening.models import Screening

from . import proposal, schedule
from .models import (
    NEEDS_REASON,
    TRANSITIONS,
    PlanDoseChange,
    PlannedSession,
    PlanStatus,
    TreatmentPlan,
)

# REFERENCE.md section 1: esketamine for MDD with acute suicidal ideation "must be with an oral
# antidepressant" (esketamine label).
ORAL_ANTIDEPRESSANT_REQUIRED = {("esketamine", "mdd_suicidal_ideation")}
ORAL_ANTIDEPRESSANT_SOURCE = "REFERENCE.md section 1 (esketamine label)"

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


# --- Checks shared by create and sign -------------------------------------------------------


def _screening_problem(plan: TreatmentPlan, today: dt.date) -> dict[str, str]:
    screening = plan.screening
    if screening.patient_id != plan.patient_id:
        return {"screening": "That screening belongs to another patient."}
    problems = screening_services.usability_problems(screening, today=today, for_plan=plan)
    if problems:
        return {"screening": "No plan without a valid screening: " + "; ".join(problems) + "."}
    return {}


def _protocol_problem(plan: TreatmentPlan) -> dict[str, str]:
    protocol = plan.protocol
    if not protocol.active:
        return {"protocol": f"{protocol.name} is retired from the clinic's catalog."}
    if protocol.route != plan.route:
        return {
            "protocol": f"{protocol.name} is for route {protocol.route}; the screening was for "
            f"route {plan.route}. Screen for that route, or choose a {plan.route} protocol."
        }
    if not protocol.allows_indication(plan.indication):
        return {
            "protocol": f"{protocol.name} is for {', '.join(protocol.indications)}, not "
            f"{plan.indication}."
        }
    return {}


def _weight_for(plan: TreatmentPlan) -> None:
    """Fill in the weight the dose uses: the current one, for all but esketamine."""
    if plan.protocol.dose_basis == DoseBasis.NASAL_DEVICE:
        plan.weight_kg = plan.weight_measured_on = None
        return
    weight = plan.patient.current_weight()
    plan.weight_kg = weight.weight_kg if weight else None
    plan.weight_measured_on = weight.measured_on if weight else None


def _dose(
    protocol: Protocol,
    patient: Patient,
    *,
    today: dt.date,
    session_number: int,
    weight_kg,
    weight_measured_on,
    dose_mg_per_kg,
    dose_mg,
    infusion_minutes,
    override_reason,
) -> dosing.DoseResult:
    """Dosing on the clinic's copy of the protocol; DosingError becomes a field error."""
    rules = protocol.rules()
    needs_weight = rules.dose.basis is DoseBasis.MG_PER_KG or (
        rules.dose.basis is DoseBasis.MG_PER_KG_OR_FIXED_MG and dose_mg is None
    )
    if needs_weight and weight_kg is None:
        raise ValidationError(
            {"weight_kg": "No weight on record: weigh the patient (the dose is per kg)."}
        )
    nasal = rules.dose.basis is DoseBasis.NASAL_DEVICE
    try:
        return dosing.calculate_dose(
            rules,
            weight_kg=None if nasal else weight_kg,
            dose_mg_per_kg=dose_mg_per_kg,
            dose_mg=dose_mg,
            infusion_minutes=infusion_minutes,
            session_number=session_number if nasal else None,
            age_years=patient.age_on(today) if nasal else None,
            weight_measured_on=None if nasal or weight_kg is None else weight_measured_on,
            today=today,
            override_reason=override_reason or None,
        )
    except dosing.DosingError as error:
        raise ValidationError({error.field: error.message}) from None


def _proposed_course(plan: TreatmentPlan) -> list[schedule.ProposedSession]:
    if not plan.schedule_code:
        return []
    given = {
        "count": plan.session_count,
        "interval_weeks": plan.interval_weeks,
        "horizon_weeks": plan.horizon_weeks,
        "maintenance_weekly": plan.maintenance_weekly,
    }
    try:
        inputs = proposal.applicable_inputs(plan.schedule_code, given)
        return schedule.propose_schedule(
            plan.schedule_code,
            start_date=plan.start_date,
            working_weekdays=plan.working_weekdays,
            **{name: value for name, value in inputs.items() if value is not None},
        )
    except schedule.ScheduleError as error:
        field = {"protocol": "schedule_code", "count": "session_count"}.get(
            error.field, error.field
        )
        raise ValidationError({field: error.message}) from None


def proposed_course(plan: TreatmentPlan) -> list[schedule.ProposedSession]:
    """The course a draft would get if signed now ([] if it cannot be proposed)."""
    try:
        return _proposed_course(plan)
    except ValidationError:
        return []


def _course_problem(plan: TreatmentPlan, today: dt.date) -> dict[str, str]:
    schedules = list(plan.protocol.course_schedules or [])
    if plan.start_date is None:
        return {"start_date": "Give the first day of the course."}
    if plan.start_date < today:
        return {"start_date": "The course cannot start in the past."}
    if not schedules and plan.schedule_code:
        return {
            "schedule_code": f"{plan.protocol.name} has no schedule pattern; leave it empty "
            "and set the dates when booking."
        }
    if schedules and plan.schedule_code not in schedules:
        return {"schedule_code": f"Choose one of {', '.join(schedules)}."}
    return {}


def _keep_applicable(plan: TreatmentPlan) -> None:
    """Keep only the course inputs the chosen pattern uses (callers send them all)."""
    given = {
        "count": plan.session_count,
        "interval_weeks": plan.interval_weeks,
        "horizon_weeks": plan.horizon_weeks,
        "maintenance_weekly": plan.maintenance_weekly,
    }
    kept = proposal.applicable_inputs(plan.schedule_code, given) if plan.schedule_code else {}
    plan.session_count = kept.get("count")
    plan.interval_weeks = kept.get("interval_weeks")
    plan.horizon_weeks = kept.get("horizon_weeks")
    plan.maintenance_weekly = bool(kept.get("maintenance_weekly"))


def _other_problems(plan: TreatmentPlan) -> dict[str, str]:
    errors: dict[str, str] = {}
    if (plan.route, plan.indication) in ORAL_ANTIDEPRESSANT_REQUIRED and not (
        plan.concurrent_oral_antidepressant.strip()
    ):
        errors["concurrent_oral_antidepressant"] = (
            "Esketamine for depression with acute suicidal ideation is given with an oral "
            f"antidepressant: name it ({ORAL_ANTIDEPRESSANT_SOURCE})."
        )
    if plan.therapist_id is not None:
        on_team = plan.patient.care_team.valid().filter(
            user_id=plan.therapist_id, role=CareRole.THERAPIST
        )
        if not on_team.exists():
            errors["therapist"] = "Choose a therapist on the patient's care team."
    return errors


def _validate(plan: TreatmentPlan, today: dt.date) -> None:
    """All checks, in the order a prescriber would fix them; the first failing group raises."""
    for check in (
        lambda: _screening_problem(plan, today),
        lambda: _protocol_problem(plan),
        lambda: _course_problem(plan, today),
        lambda: _other_problems(plan),
    ):
        errors = check()
        if errors:
            raise ValidationError(errors)


def _apply_dose(plan: TreatmentPlan, today: dt.date) -> None:
    result = _dose(
        plan.protocol,
        plan.patient,
        today=today,
        session_number=1,
        weight_kg=plan.weight_kg,
        weight_measured_on=plan.weight_measured_on,
        dose_mg_per_kg=plan.dose_mg_per_kg,
        dose_mg=None if plan.dose_mg_per_kg is not None else plan.dose_mg,
        infusion_minutes=plan.infusion_minutes,
        override_reason=plan.override_reason,
    )
    plan.dose_mg = result.dose_mg
    plan.dose_mg_per_kg = result.dose_mg_per_kg
    plan.rate_mg_per_min = result.rate_mg_per_min
    plan.infusion_minutes = result.infusion_minutes
    plan.devices = result.devices
    plan.dose_warnings = list(result.warnings)


# --- Create ---------------------------------------------------------------------------------


def plan_create(*, request, patient: Patient, data: dict[str, Any]) -> TreatmentPlan:
    """Store a draft plan from ``data`` (``PLAN_INPUTS``; screening and protocol as objects or
    ids/codes), with the dose computed on the clinic's protocol and the current weight."""
    action = "plan.create"
    today = timezone.localdate()
    try:
        plan = _build(patient, data, request.user)
        _validate(plan, today)
        _keep_applicable(plan)
        _weight_for(plan)
        _apply_dose(plan, today)
        _proposed_course(plan)
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
        dose_mg_per_kg=_decimal(data.get("dose_mg_per_kg"), "dose_mg_per_kg"),
        dose_mg=_decimal(data.get("dose_mg"), "dose_mg") or Decimal(0),
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


def _decimal(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: "Give a number."}) from None


# --- Sign -----------------------------------------------------------------------------------


def plan_sign(*, request, plan: TreatmentPlan) -> TreatmentPlan:
    """A prescriber signs a draft: every check again, then the course snapshot, then active.

    Raises ``ValidationError`` (422) or :class:`PlanConflict` (409, another active plan).
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
        _validate(plan, today)
        _apply_dose(plan, today)
        course = _proposed_course(plan)
    except ValidationError as error:
        plan.refresh_from_db()
        reject(request, action, error, plan.patient_id)
    existing = _active_plan(plan)
    if existing is not None:
        _conflict(request, plan, existing)
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
            if locked.status != PlanStatus.DRAFT:
                raise ValidationError({"status": "Someone else signed or struck out this plan."})
            plan.status = PlanStatus.ACTIVE
            plan.signed_by = request.user
            plan.signed_at = now
            plan.induction_sessions = sum(1 for s in course if s.phase == "induction") or None
            plan.save()
            PlannedSession.objects.bulk_create(
                PlannedSession(plan=plan, number=s.number, date=s.date, phase=s.phase)
                for s in course
            )
            # The measures due over the course (baseline, before sessions, follow-ups).
            outcome_services.tasks_sync(plan)
            trail.record(
                action=action,
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
    except IntegrityError:
        # Lost a race with another signature for this patient: the constraint held.
        plan.refresh_from_db()
        _conflict(request, plan, _active_plan(plan))
    except ValidationError as error:
        plan.refresh_from_db()
        reject(request, action, error, plan.patient_id)
    return plan


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


# --- Amend the dose -------------------------------------------------------------------------


def next_session_number(plan: TreatmentPlan, today: dt.date | None = None) -> int | None:
    today = today or timezone.localdate()
    upcoming = plan.planned_sessions.filter(date__gte=today).order_by("number").first()
    return upcoming.number if upcoming else None


def plan_amend_dose(
    *,
    request,
    plan: TreatmentPlan,
    reason: str,
    dose_mg_per_kg=None,
    dose_mg=None,
    from_session: int | None = None,
    infusion_minutes: int | None = None,
    override_reason: str = "",
) -> PlanDoseChange:
    """Change the dose of an active plan from a session on; the old dose stays on record."""
    action = "plan.amend_dose"
    today = timezone.localdate()
    reason = (reason or "").strip()
    override_reason = (override_reason or "").strip()
    try:
        if not can(request.user, "plan.amend"):
            raise ValidationError({"changed_by": "Only a prescriber changes a plan's dose."})
        if not plan.is_active:
            raise ValidationError({"status": "Only an active plan's dose can be changed."})
        if not reason:
            raise ValidationError({"reason": "Say why the dose changes."})
        current = plan.current_dose()
        if from_session is None:
            from_session = next_session_number(plan, today)
        if from_session is None:
            raise ValidationError({"from_session": "From which session does the dose change?"})
        last = plan.planned_sessions.order_by("-number").first()
        if isinstance(from_session, bool) or not isinstance(from_session, int):
            raise ValidationError({"from_session": "A session number."})
        if from_session < max(2, current.from_session):
            raise ValidationError(
                {
                    "from_session": f"From session {max(2, current.from_session)} or later: "
                    "earlier doses are on record as signed or amended."
                }
            )
        if last is not None and from_session > last.number:
            raise ValidationError(
                {"from_session": f"The course has {last.number} planned sessions."}
            )
        weight = (
            None
            if plan.protocol.dose_basis == DoseBasis.NASAL_DEVICE
            else (plan.patient.current_weight())
        )
        result = _dose(
            plan.protocol,
            plan.patient,
            today=today,
            session_number=from_session,
            weight_kg=weight.weight_kg if weight else None,
            weight_measured_on=weight.measured_on if weight else None,
            dose_mg_per_kg=_decimal(dose_mg_per_kg, "dose_mg_per_kg"),
            dose_mg=_decimal(dose_mg, "dose_mg"),
            infusion_minutes=infusion_minutes
            if infusion_minutes is not None
            else plan.infusion_minutes,
            override_reason=override_reason,
        )
    except ValidationError as error:
        reject(request, action, error, plan.patient_id)
    change = PlanDoseChange(
        plan=plan,
        from_session=from_session,
        old_dose_mg=current.dose_mg,
        old_dose_mg_per_kg=current.dose_mg_per_kg,
        new_dose_mg=result.dose_mg,
        new_dose_mg_per_kg=result.dose_mg_per_kg,
        new_rate_mg_per_min=result.rate_mg_per_min,
        new_devices=result.devices,
        weight_kg=weight.weight_kg if weight else None,
        weight_measured_on=weight.measured_on if weight else None,
        reason=reason[:300],
        override_reason=override_reason,
        warnings=list(result.warnings),
        changed_by=request.user,
    )
    try:
        change.full_clean(exclude=["plan", "changed_by"])
    except ValidationError as error:
        reject(request, action, error, plan.patient_id)
    with transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PlanStatus.ACTIVE:
            reject(
                request,
                action,
                ValidationError({"status": "Only an active plan's dose can be changed."}),
                plan.patient_id,
            )
        change.save(force_insert=True)
        trail.record(
            action=action,
            request=request,
            patient_id=plan.patient_id,
            target=plan,
            detail={
                "from_session": from_session,
                "dose_mg": [current.dose_mg, result.dose_mg],
                "dose_mg_per_kg": [current.dose_mg_per_kg, result.dose_mg_per_kg],
                "reason": change.reason,
                "override_reason": override_reason,
                "warnings": change.warnings,
            },
        )
    return change


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
