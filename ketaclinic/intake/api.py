"""Consultation requests over the API: anyone may send one; only staff read and triage.

The public ``POST`` answers with a reference and nothing of what was sent: whoever holds a
stranger's browser or replays a request learns nothing from the answer. No one reads a
request back without a staff role.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.patients.models import Sex
from ketaclinic.patients.services import DuplicatePatient
from ketaclinic.web.json_errors import ApiError

from . import requests as checks
from . import services
from .models import ConsultationRequest, PreferredContact, Status

router = Router(tags=["intake"])
MAX_PAGE = 200


class ConsultationRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: dt.date
    email: str = Field(max_length=254)
    phone: str = Field(max_length=30)
    state_or_region: str = Field(max_length=100)
    conditions: list[str] = Field(
        max_length=20, description="Codes from the condition list (see the request page)."
    )
    current_treatment: str = Field("", max_length=2000)
    preferred_contact: PreferredContact
    message: str = Field("", max_length=4000)
    consent_to_contact: bool = Field(description="Must be true: the clinic may contact you.")
    suicidal_thoughts: bool = Field(
        False, description="You are having thoughts of suicide: crisis resources are returned."
    )
    website: str = Field("", max_length=200, description="Leave empty.")


class CrisisResource(Schema):
    name: str
    number: str


class RequestReceived(Schema):
    reference: str = Field(description="Quote it when you call the clinic.")
    message: str
    crisis_resources: list[CrisisResource]


class TriageEventOut(Schema):
    at: dt.datetime
    by: str
    kind: str
    from_status: str
    to_status: str
    note: str


class ConsultationRequestSummary(Schema):
    id: int
    reference: str
    given_name: str
    family_name: str
    status: Status
    urgent: bool
    red_flag: str
    conditions: list[str]
    created_at: dt.datetime
    patient_id: int | None


class ConsultationRequestOut(ConsultationRequestSummary):
    date_of_birth: dt.date
    email: str
    phone: str
    state_or_region: str
    current_treatment: str
    preferred_contact: str
    message: str
    suicidal_thoughts: bool
    decline_reason: str
    events: list[TriageEventOut]


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: str = Field("", max_length=2000, description="Required when declining.")


class RedFlagIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)


class ConvertIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sex: Sex = Sex.UNKNOWN
    confirm_duplicate: bool = Field(
        False,
        description="A patient with the same name and date of birth is refused with 409 "
        "listing the matches; send true to create a new record anyway.",
    )


class Converted(Schema):
    patient_id: int
    mrn: str
    book_consultation_url: str


class ConvertDuplicateField(Schema):
    field: str
    message: str


class ConvertDuplicateOut(Schema):
    message: str
    errors: list[ConvertDuplicateField]
    candidates: list[int]


def crisis_resources(urgent: bool) -> list[dict]:
    if not urgent:
        return []
    return [
        {"name": settings.CRISIS_LINE_NAME, "number": settings.CRISIS_LINE},
        {"name": "Emergency services", "number": settings.EMERGENCY_NUMBER},
    ]


def problem(message: str, field: str = "") -> dict:
    return {"message": message, "errors": [{"field": field, "message": message}] if field else []}


@router.post(
    "/consultation-requests",
    auth=None,
    response={201: RequestReceived, 409: ApiError, 413: ApiError, 429: ApiError},
    summary="Ask for a consultation (no sign-in)",
    description="Anyone may send one. Answers 201 with a reference to quote and nothing of "
    "what was sent; the same person again within 10 minutes gets the same reference. "
    "At most 5 an hour from one address (429).",
)
def submit_request(request, payload: ConsultationRequestIn):
    if len(request.body) > checks.MAX_BODY_BYTES:
        return Reply(413, problem("The request body is too large."))
    values = payload.dict(exclude={"website"})
    try:
        submitted = services.request_submit(
            request=request, values=values, honeypot=payload.website.strip()
        )
    except services.RateLimited as limited:
        return Reply(429, problem(limited.message))
    return Reply(
        201,
        {
            "reference": submitted.reference,
            "message": "Thank you. The clinic will contact you; quote this reference.",
            "crisis_resources": crisis_resources(payload.suicidal_thoughts),
        },
    )


def access_request(request, request_id: int) -> ConsultationRequest:
    require_permission(request, "consultation_request.triage")
    return get_object_or_404(ConsultationRequest, pk=request_id)


def detail_of(consultation: ConsultationRequest) -> dict:
    events = consultation.events.select_related("by")
    return {
        **{field: getattr(consultation, field) for field in DETAIL_FIELDS},
        "events": [
            {
                "at": e.at,
                "by": e.by.get_full_name() or e.by.username if e.by else "",
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in events
        ],
    }


DETAIL_FIELDS = [
    name
    for name in ConsultationRequestOut.model_fields
    if name not in {"events"} and name != "patient_id"
] + ["patient_id"]


@router.get(
    "/consultation-requests",
    response=list[ConsultationRequestSummary],
    summary="The triage queue (staff)",
    description="Urgent requests first, then oldest first. Open requests unless `status` says.",
)
def list_requests(
    request,
    status: Status | None = Query(None),  # noqa: B008
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    require_permission(request, "consultation_request.triage")
    rows = ConsultationRequest.objects.triage_order()
    rows = rows.filter(status=status) if status else rows.open()
    rows = list(rows[:limit])
    trail.record(
        action="consultation_request.list",
        request=request,
        detail={"status": status or "open", "count": len(rows)},
    )
    return rows


@router.get(
    "/consultation-requests/{request_id}",
    response=ConsultationRequestOut,
    summary="One consultation request with its triage history (staff)",
)
def get_request(request, request_id: int):
    consultation = access_request(request, request_id)
    trail.record(
        action="consultation_request.view",
        request=request,
        target=consultation,
        patient_id=consultation.patient_id,
    )
    return detail_of(consultation)


@router.post(
    "/consultation-requests/{request_id}/transition",
    response={200: ConsultationRequestOut, 409: ApiError},
    summary="Move a request along its triage (staff)",
    description="new → contacted → consultation scheduled → converted / declined (with a "
    "reason). 409 names the current status when the step is not allowed from it; converting "
    "has its own operation.",
)
def transition_request(request, request_id: int, payload: TransitionIn):
    consultation = access_request(request, request_id)
    try:
        services.request_transition(
            request=request,
            consultation=consultation,
            to_status=payload.status,
            reason=payload.reason,
        )
    except services.TriageConflict as conflict:
        return Reply(409, problem(str(conflict), "status"))
    consultation.refresh_from_db()
    return Reply(200, detail_of(consultation))


@router.post(
    "/consultation-requests/{request_id}/red-flag",
    response={200: ConsultationRequestOut},
    summary="Note an early clinical concern (prescriber)",
)
def red_flag_request(request, request_id: int, payload: RedFlagIn):
    consultation = access_request(request, request_id)
    require_permission(request, "consultation_request.red_flag")
    services.request_red_flag(request=request, consultation=consultation, note=payload.note)
    return Reply(200, detail_of(consultation))


@router.post(
    "/consultation-requests/{request_id}/convert",
    response={201: Converted, 409: ConvertDuplicateOut},
    summary="Create the patient from a request (staff)",
    description="Name, birth date and contact details carry over; the conditions stay on the "
    "linked request as the person's own words. 409 lists matching patients (repeat with "
    '`"confirm_duplicate": true`) or says the request is already closed.',
)
def convert_request(request, request_id: int, payload: ConvertIn):
    consultation = access_request(request, request_id)
    require_permission(request, "patient.create")
    try:
        patient = services.request_convert(
            request=request,
            consultation=consultation,
            sex=payload.sex,
            confirm_duplicate=payload.confirm_duplicate,
        )
    except DuplicatePatient as found:
        return Reply(
            409,
            {
                "message": found.message,
                "errors": [{"field": "confirm_duplicate", "message": found.message}],
                "candidates": [c.pk for c in found.candidates],
            },
        )
    except services.TriageConflict as conflict:
        return Reply(409, {**problem(str(conflict), "status"), "candidates": []})
    return Reply(
        201,
        {
            "patient_id": patient.pk,
            "mrn": patient.mrn,
            "book_consultation_url": booking_url(patient.pk),
        },
    )


def booking_url(patient_id: int) -> str:
    return reverse("scheduling:book", args=[patient_id]) + "?type=consultation"


__all__ = ["ValidationError", "router"]
