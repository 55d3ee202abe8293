"""The checks a treatment plan passes when it is created and again when it is signed.

A valid screening for the plan's route and indication, a protocol of the clinic's catalog that
fits them, a course the schedule can propose, the oral antidepressant esketamine for suicidal
ideation needs, a therapist of the care team; and the dose, computed by the pure dosing core on
the clinic's copy of the protocol. Each check answers field errors (``ValidationError``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError

from ketaclinic.patients.models import CareRole, Patient
from ketaclinic.protocols import dosing
from ketaclinic.protocols.catalog import DoseBasis, get_schedule
from ketaclinic.protocols.models import Protocol
from ketaclinic.screening import services as screening_services
from ketaclinic.screening import vocabulary

from . import proposal, schedule
from .models import TreatmentPlan


def _screening_problem(plan: TreatmentPlan, today: dt.date) -> dict[str, str]:
    """The screening must be this patient's, signed, eligible, current and unused."""
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
        route = plan.get_route_display()
        return {
            "protocol": f"{protocol.name} is for the {protocol.get_route_display()} route; the "
            f"screening was for {route}. Screen for that route, or choose a {route} protocol."
        }
    if not protocol.allows_indication(plan.indication):
        indications = dict(TreatmentPlan._meta.get_field("indication").choices)
        allowed = ", ".join(str(indications.get(code, code)) for code in protocol.indications)
        return {
            "protocol": f"{protocol.name} is for {allowed}, not "
            f"{plan.get_indication_display().lower()}."
        }
    return {}


def weight_for(plan: TreatmentPlan) -> None:
    """Fill in the weight the dose uses: the current one, for all but esketamine."""
    if plan.protocol.dose_basis == DoseBasis.NASAL_DEVICE:
        plan.weight_kg = plan.weight_measured_on = None
        return
    weight = plan.patient.current_weight()
    plan.weight_kg = weight.weight_kg if weight else None
    plan.weight_measured_on = weight.measured_on if weight else None


def dose_for(
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


def course_or_refusal(plan: TreatmentPlan) -> list[schedule.ProposedSession]:
    """The course the plan's schedule pattern proposes; a field error when it cannot."""
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
        return course_or_refusal(plan)
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
        labels = "; ".join(get_schedule(code).label for code in schedules)
        return {"schedule_code": f"Choose one of this protocol's course schedules: {labels}."}
    return {}


def keep_applicable(plan: TreatmentPlan) -> None:
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
    # The screening finding's rule (findings data) says when an oral antidepressant is due.
    required = vocabulary.oral_antidepressant_rule(plan.route, plan.indication)
    if required is not None and not plan.concurrent_oral_antidepressant.strip():
        errors["concurrent_oral_antidepressant"] = (
            "Esketamine for depression with acute suicidal ideation is given with an oral "
            f"antidepressant: name it ({'; '.join(required.sources)})."
        )
    if plan.therapist_id is not None:
        on_team = plan.patient.care_team.valid().filter(
            user_id=plan.therapist_id, role=CareRole.THERAPIST
        )
        if not on_team.exists():
            errors["therapist"] = "Choose a therapist on the patient's care team."
    return errors


def validate(plan: TreatmentPlan, today: dt.date) -> None:
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


def apply_dose(plan: TreatmentPlan, today: dt.date) -> None:
    """Compute the first session's dose and keep it on the plan, with its warnings."""
    result = dose_for(
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


def decimal_input(value, field: str) -> Decimal | None:
    """A number given as text or number, ``None`` when blank; a field error otherwise."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: "Give a number."}) from None
