"""Outcomes API: score a questionnaire, compare two totals, and a patient's responses.

Stable shapes (issue #6):

* ``POST /api/v1/instruments/{code}/score`` with ``{"answers": [0, 1, 2, ...]}`` in item
  order answers ``{"instrument", "total", "band", "flags", "subscores"}`` (the PCL-5 adds
  ``"provisional_ptsd"``). A wrong number of answers or an answer the item does not offer is
  422 naming the item; an instrument the clinic does not have is 404.
* ``POST /api/v1/outcomes/change`` with ``{"instrument", "baseline", "current"}`` answers
  ``{"change_pct", "response", "remission"}`` (``remission`` null where undefined).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_patient

from . import scoring, services
from .definitions import UnknownInstrumentError
from .models import Channel, Response

router = Router(tags=["outcomes"])


class ScoreIn(Schema):
    model_config = ConfigDict(extra="forbid")

    answers: list[Any] = Field(..., description="One answer value per item, in item order")


class ChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    instrument: str
    baseline: Any = Field(..., description="Course baseline total")
    current: Any = Field(..., description="Current total")


class ChangeOut(Schema):
    change_pct: float | None
    response: bool | None
    remission: bool | None


class InstrumentOut(Schema):
    code: str
    name: str
    version: int
    rater: str
    origin: str
    items: int
    total_min: int
    total_max: int


class ResponseOut(Schema):
    id: int
    instrument: str
    instrument_version: int
    status: str
    channel: str
    answers: list[int | None]
    total: int | None
    band: str
    flags: list[str]
    subscores: dict[str, int]
    submitted_at: dt.datetime | None
    started_at: dt.datetime


class ResponseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    instrument: str
    answers: list[Any]
    channel: str = Field(..., description="paper, phone or interview (staff entry)")
    submitted_at: dt.datetime | None = Field(None, description="When the patient answered")


def _definition(request, code: str):
    try:
        return services.definition(code)
    except UnknownInstrumentError:
        trail.record(
            action="instrument.score",
            request=request,
            outcome=Outcome.INVALID,
            detail={"instrument": code, "error": "unknown instrument"},
        )
        raise Http404 from None


@router.post("/instruments/{code}/score", summary="Score one questionnaire (no patient record)")
def score(request, code: str, payload: ScoreIn):
    require_permission(request, "outcomes.calculate")
    definition = _definition(request, code)
    instrument = definition.instrument
    answers = payload.answers
    try:
        result = scoring.score(instrument, answers)
        if isinstance(result, scoring.Incomplete):
            first = result.missing_items[0]
            raise scoring.AnswerError(
                first,
                f"no answer; {instrument.name} has {len(instrument.items)} items, "
                f"got {sum(a is not None for a in answers)} answers",
            )
    except scoring.AnswerError as error:
        field = f"item_{error.item}"
        trail.record(
            action="instrument.score",
            request=request,
            outcome=Outcome.INVALID,
            detail={"instrument": code, "field": field, "message": str(error)},
        )
        raise ValidationError({field: str(error)}) from None
    except scoring.ScoringError as error:
        raise ValidationError({"answers": str(error)}) from None
    trail.record(
        action="instrument.score",
        request=request,
        detail={"instrument": code, "total": result.total, "band": result.band},
    )
    return result.as_dict()


@router.post("/outcomes/change", response=ChangeOut, summary="Change, response and remission")
def change(request, payload: ChangeIn):
    require_permission(request, "outcomes.calculate")
    definition = _definition(request, payload.instrument)
    instrument = definition.instrument
    errors = {}
    for name in ("baseline", "current"):
        value = getattr(payload, name)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = f"{name} must be a whole number, got {value!r}"
        elif not instrument.total_min <= value <= instrument.total_max:
            errors[name] = (
                f"{name} {value} is outside {instrument.name}'s range "
                f"{instrument.total_min}–{instrument.total_max}"
            )
    if errors:
        trail.record(
            action="outcome.change",
            request=request,
            outcome=Outcome.INVALID,
            detail={"instrument": payload.instrument, "errors": errors},
        )
        raise ValidationError(errors)
    result = scoring.change(instrument, payload.baseline, payload.current)
    trail.record(
        action="outcome.change",
        request=request,
        detail={
            "instrument": payload.instrument,
            "baseline": payload.baseline,
            "current": payload.current,
        },
    )
    return {
        "change_pct": result.change_pct,
        "response": result.response,
        "remission": result.remission,
    }


@router.get("/instruments", response=list[InstrumentOut], summary="The clinic's instruments")
def instruments(request):
    require_permission(request, "outcomes.calculate")
    rows = []
    for definition in services.usable_definitions().values():
        instrument = definition.instrument
        rows.append(
            {
                "code": definition.code,
                "name": definition.name,
                "version": definition.version,
                "rater": definition.rater,
                "origin": definition.origin,
                "items": len(instrument.items),
                "total_min": instrument.total_min,
                "total_max": instrument.total_max,
            }
        )
    return rows


def _response_out(response: Response) -> dict:
    return {
        "id": response.pk,
        "instrument": response.instrument_id,
        "instrument_version": response.instrument_version,
        "status": response.status,
        "channel": response.channel,
        "answers": response.answers,
        "total": response.total,
        "band": response.band,
        "flags": response.flags,
        "subscores": response.subscores,
        "submitted_at": response.submitted_at,
        "started_at": response.started_at,
    }


@router.get(
    "/patients/{int:patient_id}/outcomes/responses",
    response=list[ResponseOut],
    summary="A patient's questionnaire responses, newest first",
)
def responses(request, patient_id: int):
    patient = access_patient(request, patient_id, "outcomes.view", section="outcomes-api")
    return [_response_out(r) for r in patient.outcome_responses.order_by("-started_at", "-id")]


@router.post(
    "/patients/{int:patient_id}/outcomes/responses",
    response={201: ResponseOut},
    summary="Enter answers given on paper, by phone or in a clinician's interview",
)
def response_create(request, patient_id: int, payload: ResponseIn):
    patient = access_patient(request, patient_id, "outcomes.enter")
    if request.user.role == Role.PATIENT or payload.channel == Channel.PORTAL:
        raise ValidationError({"channel": "Staff entry is paper, phone or interview."})
    try:
        definition = services.definition(payload.instrument)
    except UnknownInstrumentError:
        raise ValidationError(
            {"instrument": f"Unknown instrument {payload.instrument!r}."}
        ) from None
    response = services.response_save(
        request=request,
        patient=patient,
        definition=definition,
        answers=payload.answers,
        channel=payload.channel,
        submitted_at=payload.submitted_at,
    )
    return Reply(201, _response_out(response))
