"""Screening API: the stateless evaluator, and a patient's screenings (create, read, sign)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_entry, access_patient

from . import rules, services
from .models import Screening

router = Router(tags=["screening"])


def renamed(error: ValidationError, names: dict[str, str]) -> ValidationError:
    """The same errors with service field names turned into this API's names."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {names.get(field, field): messages for field, messages in error.message_dict.items()}
    )


class FindingOut(Schema):
    code: str
    severity: str
    message: str
    sources: list[str]


class EvaluateIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    route: str | None = None
    indication: str | None = None
    age_years: int | None = None
    antidepressant_trials: int | None = Field(
        None, description="Adequate antidepressant trials (counted from the treatment history)."
    )
    findings: list[str] = Field(
        default_factory=list, description="Reported finding codes (not computed ones)."
    )
    systolic_mmhg: float | None = None
    diastolic_mmhg: float | None = None
    oral_antidepressant: bool | None = None


class EvaluateOut(Schema):
    decision: str
    findings: list[FindingOut]


EVALUATE_FIELDS = {"adequate_antidepressant_trials": "antidepressant_trials"}


@router.post(
    "/screening/evaluate",
    response=EvaluateOut,
    summary="Screen answers against the rules (no patient record)",
    description="The screening rules engine; every finding names its sources.",
)
def evaluate(request, payload: EvaluateIn):
    require_permission(request, "clinical.calculate")
    try:
        result = rules.evaluate(
            route=payload.route,
            indication=payload.indication,
            age_years=payload.age_years,
            adequate_antidepressant_trials=payload.antidepressant_trials,
            findings=payload.findings,
            systolic_mmhg=payload.systolic_mmhg,
            diastolic_mmhg=payload.diastolic_mmhg,
            oral_antidepressant=payload.oral_antidepressant,
        )
    except rules.ScreeningInputError as error:
        field = EVALUATE_FIELDS.get(error.field, error.field)
        trail.record(
            action="screening.evaluate",
            request=request,
            outcome=Outcome.INVALID,
            detail={"field": field, "message": error.message},
        )
        raise ValidationError({field: error.message}) from None
    trail.record(
        action="screening.evaluate",
        request=request,
        detail={
            "route": payload.route,
            "indication": payload.indication,
            "decision": result.decision.value,
        },
    )
    return result.as_dict()


# --- A patient's screenings -----------------------------------------------------------------


class DerivedOut(Schema):
    code: str
    because: list[str]
    basis: list[str]


class ScreeningOut(Schema):
    id: int
    patient_id: int
    route: str
    indication: str
    status: str
    reported_findings: list[str]
    derived_findings: list[DerivedOut]
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    bp_measured_at: dt.datetime | None
    oral_antidepressant: bool | None
    oral_antidepressants_on_record: list[str]
    answered_by: str
    answered_at: dt.datetime
    age_years: int
    adequate_trials: int
    engine_decision: str
    engine_findings: list[FindingOut]
    evaluated_at: dt.datetime
    signed_by: str | None
    signed_at: dt.datetime | None
    clinician_decision: str
    reasoning: str
    valid_until: dt.date | None
    error_reason: str
    usable_for_plan: bool
    problems: list[str]


class ScreeningIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    route: str
    indication: str
    findings: list[str] = Field(default_factory=list, description="Reported finding codes.")
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    bp_measured_at: dt.datetime | None = None
    oral_antidepressant: bool | None = None

    def answers(self) -> dict[str, Any]:
        values = self.dict()
        values["reported_findings"] = values.pop("findings")
        return values


class SignIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    decision: str = Field(description="eligible, not_eligible or eligible_with_reasoning")
    reasoning: str = ""


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    reason: str = ""


STATEFUL_FIELDS = {"reported_findings": "findings", "clinician_decision": "decision"}


def screening_out(screening: Screening, snapshot=None) -> dict[str, Any]:
    problems = services.usability_problems(screening, snapshot=snapshot)
    return {
        **{
            name: getattr(screening, name)
            for name in ScreeningOut.model_fields
            if hasattr(screening, name)
        },
        "answered_by": screening.answered_by.username,
        "signed_by": screening.signed_by.username if screening.signed_by_id else None,
        "usable_for_plan": not problems,
        "problems": problems,
    }


def _screenings(patient):
    return patient.screenings.select_related("answered_by", "signed_by", "patient")


@router.get("/patients/{int:patient_id}/screenings", response=list[ScreeningOut])
def list_screenings(request, patient_id: int):
    patient = access_patient(request, patient_id, "screening.view", section="api.screenings")
    snapshot = services.record_snapshot(patient)
    return [screening_out(s, snapshot) for s in _screenings(patient)]


@router.post("/patients/{int:patient_id}/screenings", response={201: ScreeningOut})
def create_screening(request, patient_id: int, payload: ScreeningIn):
    patient = access_patient(request, patient_id, "screening.record")
    try:
        screening = services.screening_create(
            request=request, patient=patient, answers=payload.answers()
        )
    except ValidationError as error:
        raise renamed(error, STATEFUL_FIELDS) from None
    return Status(201, screening_out(screening))


@router.get("/patients/{int:patient_id}/screenings/{int:screening_id}", response=ScreeningOut)
def get_screening(request, patient_id: int, screening_id: int):
    patient = access_patient(request, patient_id, "screening.view", section="api.screening")
    return screening_out(access_entry(request, patient, Screening, screening_id))


@router.post("/patients/{int:patient_id}/screenings/{int:screening_id}", response=ScreeningOut)
def change_screening(request, patient_id: int, screening_id: int, payload: ScreeningIn):
    patient = access_patient(request, patient_id, "screening.record")
    screening = access_entry(request, patient, Screening, screening_id)
    try:
        services.screening_update(request=request, screening=screening, answers=payload.answers())
    except ValidationError as error:
        raise renamed(error, STATEFUL_FIELDS) from None
    return screening_out(screening)


@router.post("/patients/{int:patient_id}/screenings/{int:screening_id}/sign", response=ScreeningOut)
def sign_screening(request, patient_id: int, screening_id: int, payload: SignIn):
    patient = access_patient(request, patient_id, "screening.sign")
    screening = access_entry(request, patient, Screening, screening_id)
    try:
        services.screening_sign(
            request=request,
            screening=screening,
            decision=payload.decision,
            reasoning=payload.reasoning,
        )
    except ValidationError as error:
        raise renamed(error, STATEFUL_FIELDS) from None
    return screening_out(screening)


@router.post(
    "/patients/{int:patient_id}/screenings/{int:screening_id}/entered-in-error",
    response=ScreeningOut,
)
def strike_screening(request, patient_id: int, screening_id: int, payload: ReasonIn):
    patient = access_patient(request, patient_id, "screening.sign")
    screening = access_entry(request, patient, Screening, screening_id)
    services.screening_mark_in_error(request=request, screening=screening, reason=payload.reason)
    return screening_out(screening)
