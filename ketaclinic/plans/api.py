"""Plans API: the schedule preview (no patient record) and a patient's treatment plans."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_entry, access_patient
from ketaclinic.protocols.api import number
from ketaclinic.screening.api import renamed
from ketaclinic.web.json_errors import error_body

from . import proposal, schedule, services
from .models import TreatmentPlan

router = Router(tags=["plans"])


class SessionOut(Schema):
    number: int
    date: dt.date
    phase: str


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    protocol: str = Field(
        description="Schedule pattern: iv_induction, iv_maintenance, esketamine_trd or "
        "esketamine_mdsi"
    )
    start_date: dt.date
    working_weekdays: list[Any] = Field(description="0=Mon .. 6=Sun; at least 3 days")
    interval_weeks: int | None = Field(None, description="iv_maintenance (2-8)")
    count: int | None = Field(None, description="iv_maintenance: sessions")
    horizon_weeks: int | None = Field(None, description="esketamine_trd: weeks proposed")
    maintenance_weekly: bool | None = Field(None, description="esketamine_trd from week 9")


class PreviewOut(Schema):
    sessions: list[SessionOut]


class ErrorOut(Schema):
    message: str
    errors: list[dict]


@router.post(
    "/plans/schedule-preview",
    response=PreviewOut,
    summary="Propose session dates for a schedule pattern (no patient record)",
    description="Inputs the pattern does not use are ignored.",
)
def schedule_preview(request, payload: PreviewIn):
    require_permission(request, "clinical.calculate")
    given = {
        name: value
        for name, value in payload.dict().items()
        if name in proposal.OPTIONAL_INPUTS and value is not None
    }
    try:
        inputs = proposal.applicable_inputs(payload.protocol, given)
        sessions = schedule.propose_schedule(
            payload.protocol,
            start_date=payload.start_date,
            working_weekdays=payload.working_weekdays,
            **inputs,
        )
    except schedule.ScheduleError as error:
        trail.record(
            action="plans.schedule_preview",
            request=request,
            outcome=Outcome.INVALID,
            detail={"field": error.field, "message": error.message},
        )
        raise ValidationError({error.field: error.message}) from None
    trail.record(
        action="plans.schedule_preview",
        request=request,
        detail={"protocol": payload.protocol, "sessions": len(sessions)},
    )
    return {"sessions": [session.as_dict() for session in sessions]}


# --- A patient's plans ------------------------------------------------------------------------


class DoseStepOut(Schema):
    from_session: int
    dose_mg: float
    dose_mg_per_kg: float | None
    reason: str
    by: str
    at: dt.datetime | None


class EscalationOut(Schema):
    session_number: int
    previous_session_number: int
    previous_dose: float
    dose: float
    unit: str
    rise_pct: float


class CreepOut(Schema):
    unit: str | None
    escalations: list[EscalationOut]
    total_rise_pct: float | None


class PlanDoseOut(Schema):
    dose_mg: float
    dose_mg_per_kg: float | None
    rate_mg_per_min: float | None
    infusion_minutes: int | None
    devices: int | None
    weight_kg: float | None
    weight_measured_on: dt.date | None
    warnings: list[str]
    override_reason: str
    current_dose_mg: float
    history: list[DoseStepOut]
    creep: CreepOut


class PlanOut(Schema):
    id: int
    patient_id: int
    status: str
    indication: str
    route: str
    protocol: str
    protocol_name: str
    screening_id: int
    schedule: str
    start_date: dt.date
    working_weekdays: list[int]
    interval_weeks: int | None
    count: int | None
    horizon_weeks: int | None
    maintenance_weekly: bool
    induction_sessions: int | None
    concurrent_oral_antidepressant: str
    psychotherapy_plan: str
    therapist: str | None
    created_at: dt.datetime
    signed_by: str | None
    signed_at: dt.datetime | None
    end_reason: str
    sessions: list[SessionOut] = Field(
        description="Stored course once signed; for a draft, what signing would store now"
    )
    dose: PlanDoseOut | None = Field(description="Hidden from roles without plan.view_dose")


class PlanIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    screening_id: int
    protocol: str
    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    infusion_minutes: int | None = None
    override_reason: str = ""
    schedule: str = Field("", description="One of the protocol's course schedules")
    start_date: dt.date
    working_weekdays: list[Any] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    interval_weeks: int | None = None
    count: int | None = None
    horizon_weeks: int | None = None
    maintenance_weekly: bool = False
    concurrent_oral_antidepressant: str = ""
    psychotherapy_plan: str = ""
    therapist_id: int | None = None

    def data(self) -> dict[str, Any]:
        values = self.dict()
        for api_name, name in API_TO_SERVICE.items():
            values[name] = values.pop(api_name)
        return values


class DoseChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    infusion_minutes: int | None = None
    from_session: int | None = Field(None, description="Default: the next planned session")
    reason: str = ""
    override_reason: str = ""


class PlanStatusIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    status: str = Field(description="completed, stopped or entered-in-error")
    reason: str = ""


API_TO_SERVICE = {
    "screening_id": "screening",
    "schedule": "schedule_code",
    "count": "session_count",
    "therapist_id": "therapist",
}
SERVICE_TO_API = {name: api_name for api_name, name in API_TO_SERVICE.items()}


def _plans(patient):
    return patient.plans.select_related(
        "protocol", "signed_by", "therapist", "patient"
    ).prefetch_related("planned_sessions", "dose_changes__changed_by")


def plan_out(plan: TreatmentPlan, *, show_dose: bool) -> dict[str, Any]:
    if plan.is_draft:
        sessions = [s.as_dict() for s in services.proposed_course(plan)]
    else:
        sessions = [
            {"number": s.number, "date": s.date, "phase": s.phase}
            for s in (plan.planned_sessions.all())
        ]
    out = {
        "id": plan.pk,
        "patient_id": plan.patient_id,
        "status": plan.status,
        "indication": plan.indication,
        "route": plan.route,
        "protocol": plan.protocol.code,
        "protocol_name": plan.protocol.name,
        "screening_id": plan.screening_id,
        "schedule": plan.schedule_code,
        "start_date": plan.start_date,
        "working_weekdays": plan.working_weekdays,
        "interval_weeks": plan.interval_weeks,
        "count": plan.session_count,
        "horizon_weeks": plan.horizon_weeks,
        "maintenance_weekly": plan.maintenance_weekly,
        "induction_sessions": plan.induction_sessions,
        "concurrent_oral_antidepressant": plan.concurrent_oral_antidepressant,
        "psychotherapy_plan": plan.psychotherapy_plan,
        "therapist": plan.therapist.display_name if plan.therapist_id else None,
        "created_at": plan.created_at,
        "signed_by": plan.signed_by.username if plan.signed_by_id else None,
        "signed_at": plan.signed_at,
        "end_reason": plan.end_reason,
        "sessions": sessions,
        "dose": dose_out(plan) if show_dose else None,
    }
    return out


def dose_out(plan: TreatmentPlan) -> dict[str, Any]:
    steps = plan.dose_steps()
    creep = plan.dose_creep(steps)
    return {
        "dose_mg": number(plan.dose_mg),
        "dose_mg_per_kg": number(plan.dose_mg_per_kg),
        "rate_mg_per_min": number(plan.rate_mg_per_min),
        "infusion_minutes": plan.infusion_minutes,
        "devices": plan.devices,
        "weight_kg": number(plan.weight_kg),
        "weight_measured_on": plan.weight_measured_on,
        "warnings": plan.dose_warnings,
        "override_reason": plan.override_reason,
        "current_dose_mg": number(plan.current_dose().dose_mg),
        "history": [
            {
                "from_session": step.from_session,
                "dose_mg": number(step.dose_mg),
                "dose_mg_per_kg": number(step.dose_mg_per_kg),
                "reason": step.reason,
                "by": step.by,
                "at": step.at,
            }
            for step in steps
        ],
        "creep": {
            "unit": creep.unit,
            "escalations": [
                {
                    "session_number": e.session_number,
                    "previous_session_number": e.previous_session_number,
                    "previous_dose": number(e.previous_dose),
                    "dose": number(e.dose),
                    "unit": e.unit,
                    "rise_pct": number(e.rise_pct),
                }
                for e in creep.escalations
            ],
            "total_rise_pct": number(creep.total_rise_pct),
        },
    }


def _plan(request, patient, plan_id: int) -> TreatmentPlan:
    entry = access_entry(request, patient, TreatmentPlan, plan_id)
    return _plans(patient).get(pk=entry.pk)


@router.get("/patients/{int:patient_id}/plans", response=list[PlanOut])
def list_plans(request, patient_id: int):
    patient = access_patient(request, patient_id, "plan.view", section="api.plans")
    show = can(request.user, "plan.view_dose")
    return [plan_out(plan, show_dose=show) for plan in _plans(patient)]


@router.post("/patients/{int:patient_id}/plans", response={201: PlanOut})
def create_plan(request, patient_id: int, payload: PlanIn):
    patient = access_patient(request, patient_id, "plan.create")
    try:
        plan = services.plan_create(request=request, patient=patient, data=payload.data())
    except ValidationError as error:
        raise renamed(error, SERVICE_TO_API) from None
    return Status(201, plan_out(_plans(patient).get(pk=plan.pk), show_dose=True))


@router.get("/patients/{int:patient_id}/plans/{int:plan_id}", response=PlanOut)
def get_plan(request, patient_id: int, plan_id: int):
    patient = access_patient(request, patient_id, "plan.view", section="api.plan")
    return plan_out(_plan(request, patient, plan_id), show_dose=can(request.user, "plan.view_dose"))


@router.post(
    "/patients/{int:patient_id}/plans/{int:plan_id}/sign",
    response={200: PlanOut, 409: ErrorOut},
    summary="Sign a draft plan: stores its course; 409 if another plan is active",
)
def sign_plan(request, patient_id: int, plan_id: int):
    patient = access_patient(request, patient_id, "plan.sign")
    plan = _plan(request, patient, plan_id)
    try:
        services.plan_sign(request=request, plan=plan)
    except services.PlanConflict as conflict:
        return Status(
            409, error_body(conflict.message, [{"field": "status", "message": conflict.message}])
        )
    except ValidationError as error:
        raise renamed(error, SERVICE_TO_API) from None
    return Status(200, plan_out(_plan(request, patient, plan_id), show_dose=True))


@router.post(
    "/patients/{int:patient_id}/plans/{int:plan_id}/dose-changes",
    response={201: PlanOut},
    summary="Amend the dose from a session on (the old dose stays on record)",
)
def amend_dose(request, patient_id: int, plan_id: int, payload: DoseChangeIn):
    patient = access_patient(request, patient_id, "plan.amend")
    plan = _plan(request, patient, plan_id)
    services.plan_amend_dose(request=request, plan=plan, **payload.dict())
    return Status(201, plan_out(_plan(request, patient, plan_id), show_dose=True))


@router.post("/patients/{int:patient_id}/plans/{int:plan_id}/status", response=PlanOut)
def change_status(request, patient_id: int, plan_id: int, payload: PlanStatusIn):
    patient = access_patient(request, patient_id, "plan.amend")
    plan = _plan(request, patient, plan_id)
    services.plan_transition(
        request=request, plan=plan, status=payload.status, reason=payload.reason
    )
    return plan_out(_plan(request, patient, plan_id), show_dose=True)
