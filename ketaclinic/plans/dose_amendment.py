"""Amending an active plan's dose from a session on: the old dose stays on record.

Only a prescriber amends, only an active plan, only with a reason; the new dose is computed by
the pure dosing core on the clinic's copy of the protocol and today's weight (the same checks
as at signing), stored as a :class:`~.models.PlanDoseChange` and audited with old and new.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.trail import reject
from ketaclinic.protocols.catalog import DoseBasis

from .checks import decimal_input, dose_for
from .models import PlanDoseChange, PlanStatus, TreatmentPlan


def next_session_number(plan: TreatmentPlan, today: dt.date | None = None) -> int | None:
    """The number of the next planned session from ``today`` on, or ``None`` past the last."""
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
        _check_amendable(request, plan, reason)
        current = plan.current_dose()
        from_session = _from_session(plan, from_session, current, today)
        weight = _current_weight(plan)
        result = dose_for(
            plan.protocol,
            plan.patient,
            today=today,
            session_number=from_session,
            weight_kg=weight.weight_kg if weight else None,
            weight_measured_on=weight.measured_on if weight else None,
            dose_mg_per_kg=decimal_input(dose_mg_per_kg, "dose_mg_per_kg"),
            dose_mg=decimal_input(dose_mg, "dose_mg"),
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
    _save_change(request, plan, change)
    return change


def _check_amendable(request, plan: TreatmentPlan, reason: str) -> None:
    """Only a prescriber, only an active plan, only with a reason."""
    if not can(request.user, "plan.amend"):
        raise ValidationError({"changed_by": "Only a prescriber changes a plan's dose."})
    if not plan.is_active:
        raise ValidationError({"status": "Only an active plan's dose can be changed."})
    if not reason:
        raise ValidationError({"reason": "Say why the dose changes."})


def _from_session(plan: TreatmentPlan, from_session, current, today: dt.date) -> int:
    """The first session the new dose applies to: the next one unless given, never one whose
    dose is already on record as signed or amended, never past the course's end."""
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
        raise ValidationError({"from_session": f"The course has {last.number} planned sessions."})
    return from_session


def _current_weight(plan: TreatmentPlan):
    """The weight a per-kg dose is computed from; none for esketamine (whole devices)."""
    if plan.protocol.dose_basis == DoseBasis.NASAL_DEVICE:
        return None
    return plan.patient.current_weight()


def _save_change(request, plan: TreatmentPlan, change: PlanDoseChange) -> None:
    """Store the change if the plan is still active, and audit old and new dose."""
    action = "plan.amend_dose"
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
                "from_session": change.from_session,
                "dose_mg": [change.old_dose_mg, change.new_dose_mg],
                "dose_mg_per_kg": [change.old_dose_mg_per_kg, change.new_dose_mg_per_kg],
                "reason": change.reason,
                "override_reason": change.override_reason,
                "warnings": change.warnings,
            },
        )
