"""Charting API: opening a session, the checklist, bedside-monitor vitals, the vital-sign evaluator.

``POST /api/v1/sessions`` opens the session of a checked-in treatment visit (as the
appointment page does): 422 for what the visit or plan lacks, 409 while the chair still
holds another running session.

``POST /api/v1/sessions/{id}/vitals`` takes readings from a bedside monitor, which
authenticates with its own bearer token (``manage.py monitor_create``): how a batch is
checked, stored and answered once per ``Idempotency-Key`` is ``ingestion.py``'s.

``POST /api/v1/safety/evaluate-vitals`` runs readings through the clinic's vital-sign
policy without touching any record (``safety.evaluate_vitals_request``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Header, Router
from ninja import Status as Reply
from ninja.security import HttpBearer

from ketaclinic.accounts import verification
from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.scheduling.models import Appointment
from ketaclinic.web.json_answer import json_answer
from ketaclinic.web.json_errors import ApiError

from . import devices, ingestion, safety, session_service, vitals
from .access import access_session
from .checklist_service import checklist_record
from .ingestion import MAX_BATCH, Refused
from .models import IngestionRequest, TreatmentSession
from .schemas import (
    ChecklistAnswerIn,
    ChecklistEntryOut,
    EvaluateVitalsOut,
    IngestOut,
    OpenedSessionOut,
    ReadingIn,
    SessionOpenIn,
    SessionOpenRefusedOut,
    VitalsAtMinuteIn,
    reading_or_batch_body,
)
from .vitals_service import clinic_limits, clinic_policy

router = Router(tags=["charting"])

# ---------------------------------------------------------------- device authentication


class DeviceToken(HttpBearer):
    """``Authorization: Bearer kcm_...``: a bedside monitor, never a person."""

    def authenticate(self, request, token: str):
        device = devices.monitor_for_token(token)
        if device is None:
            trail.record(
                action="auth.token_refused",
                request=request,
                outcome=Outcome.REFUSED,
                detail={"kind": "monitor"},
            )
            return None
        request.monitor = device
        return device


@router.post(
    "/sessions/{session_id}/vitals",
    auth=DeviceToken(),
    response={201: IngestOut, 422: IngestOut | ApiError},
    summary="Vitals from a bedside monitor (one reading or a batch)",
    description=(
        "Authenticate with the monitor's token (`manage.py monitor_create CHAIR_ID NAME`). "
        "The monitor may write only to the session running in its chair (else 404). "
        "`Idempotency-Key` is required: a repeat returns the stored answer "
        "(`Idempotent-Replayed: true`), the same key with another body is refused (422). "
        "Implausible readings (outside the clinic's plausibility limits) are rejected with "
        "their index and reason and the rest stored: 201 when anything was stored, 422 when "
        "nothing was."
    ),
    openapi_extra=reading_or_batch_body(ReadingIn.model_json_schema()),
)
def vitals_ingest(
    request,
    session_id: int,
    response: HttpResponse,
    idempotency_key: str = Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        description="Unique per batch; reuse it, with the same body, to retry.",
    ),
):
    device = request.auth
    try:
        body = ingestion.parse_json(request.body)
        items = ingestion.batch_items(body)
        digest = ingestion.body_digest(session_id, body)
        try:
            # The key and its answer are stored in the same transaction as the readings, so
            # a repeat fails on the key's unique index, which rolls its readings back, and
            # replays the stored answer. Repeats are rare: the key is looked up only then.
            with transaction.atomic():
                status, answer = ingestion.ingest(
                    request, device, session_id, items, timezone.now()
                )
                IngestionRequest.objects.create(
                    device=device,
                    key=idempotency_key,
                    body_sha256=digest,
                    response_status=status,
                    response=answer,
                )
        except IntegrityError:
            if (earlier := ingestion.earlier_request(device, idempotency_key)) is None:
                raise  # not the key: a bug, not a retry
            return replay(request, response, earlier, digest)
    except Refused as refusal:
        if refusal.status == 404 and (
            earlier := ingestion.earlier_request(device, idempotency_key)
        ):
            return replay(request, response, earlier, digest)  # sent before the session ended
        if refusal.status == 404:
            ingestion.refused_monitor(request, device, session_id)
        return api_error(request, refusal)
    return Reply(status, answer)


def replay(request, response: HttpResponse, stored: IngestionRequest, digest: str):
    """The stored answer to a repeat; a different body under the same key is refused."""
    if stored.body_sha256 != digest:
        message = "This Idempotency-Key was already used with a different body."
        return api_error(
            request, Refused(422, message, [{"field": "Idempotency-Key", "message": message}])
        )
    response["Idempotent-Replayed"] = "true"
    return Reply(stored.response_status, stored.response)


def api_error(request, refusal: Refused):
    return json_answer(request, refusal.body, refusal.status)


# ---------------------------------------------------------------- stateless evaluation


def dotted(location: str) -> str:
    """``readings[2].spo2_pct`` as this API names fields: ``readings.2.spo2_pct``."""
    return location.replace("[", ".").replace("]", "")


@router.post(
    "/safety/evaluate-vitals",
    response=EvaluateVitalsOut,
    summary="Run readings through the clinic's vital-sign policy (no record)",
    description=(
        "Readings oldest first, timed in minutes from the session start; any field but "
        "`minute` optional. Returns the alerts in force after the newest reading and the "
        "timeline of alerts. Thresholds are the clinic's editable policy; each alert names "
        "its basis. 422 names the field of an implausible value, e.g. `readings.0.spo2_pct`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["readings"],
                        "properties": {
                            "readings": {
                                "type": "array",
                                "items": VitalsAtMinuteIn.model_json_schema(),
                            }
                        },
                    }
                }
            },
        }
    },
)
def evaluate_vitals(request):
    require_permission(request, "vitals.evaluate")
    policy = clinic_policy()
    try:
        body = ingestion.parse_json(request.body)
        if isinstance(body, dict) and (extra := sorted(set(body) - {"readings"})):
            raise vitals.ImplausibleReading(extra[0], f"{extra[0]} is not a field of this request")
        series = body.get("readings") if isinstance(body, dict) else None
        if isinstance(series, list) and len(series) > MAX_BATCH:
            # The timeline replays the series once per reading: quadratic, so bounded.
            raise vitals.ImplausibleReading(
                "readings", f"send at most {MAX_BATCH} readings, not {len(series)}"
            )
        result = safety.evaluate_vitals_request(body, policy, clinic_limits())
    except Refused as refusal:
        return invalid(request, refusal.body["errors"])
    except vitals.ImplausibleReading as problem:
        return invalid(request, [{"field": dotted(problem.location), "message": problem.message}])
    trail.record(
        action="safety.evaluate_vitals",
        request=request,
        detail={
            "readings": len(body["readings"]),
            "alerts": [alert["code"] for alert in result["alerts"]],
            "policy": [policy.name, policy.version],
        },
    )
    result["policy"] = {
        "name": policy.name,
        "version": policy.version,
        "status": policy.status,
        "source": policy.source,
    }
    return result


def invalid(request, errors: list[dict]):
    trail.record(
        action="safety.evaluate_vitals",
        request=request,
        outcome=Outcome.INVALID,
        detail={"errors": errors},
    )
    summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return api_error(request, Refused(422, summary, errors))


# ---------------------------------------------------------------- opening a session


@router.post(
    "/sessions",
    response={
        200: OpenedSessionOut,
        201: OpenedSessionOut,
        404: SessionOpenRefusedOut,
        409: SessionOpenRefusedOut,
        422: SessionOpenRefusedOut,
    },
    summary="Open the session of a checked-in treatment visit",
    description=(
        "Opens the session from the patient's active signed plan (201); a visit whose session "
        "is already open answers 200 with it. 422 when the visit is not checked in or the "
        "plan is missing or of another route; 409 while the visit's chair still holds "
        "another running session (named in the message: patient initials, MRN, opened at)."
    ),
)
def session_open(request, payload: SessionOpenIn):
    appointment = (
        Appointment.objects.select_related("type", "patient", "chair")
        .filter(pk=payload.appointment_id)
        .first()
    )
    if appointment is None:
        refuse(request, None, "session.chart", f"no appointment {payload.appointment_id}")
        raise Http404("No such appointment.")
    access_patient(request, appointment.patient_id, "session.chart")
    already = TreatmentSession.objects.filter(appointment=appointment).exists()
    try:
        session = session_service.session_open(request=request, appointment=appointment)
    except ValidationError as error:
        trail.record(
            action="session.open",
            request=request,
            patient_id=appointment.patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": error.message_dict, "appointment": appointment.pk},
        )
        raise
    except session_service.ChairBusy as busy:  # audited as refused by the service
        return Reply(
            409,
            {
                "message": busy.message,
                "errors": [{"field": "appointment_id", "message": busy.message}],
                "running_session_id": busy.other.pk,
            },
        )
    return Reply(200 if already else 201, session)


# ---------------------------------------------------------------- the pre-session checklist


@router.post(
    "/sessions/{int:session_id}/checklist",
    response={201: ChecklistEntryOut, 429: ApiError},
    summary="Answer a pre-session checklist item",
    description=(
        "A clinician confirms (passed) or records as not met (failed, with a note) one item. "
        "The two-clinician dose check also names the second clinician, who signs with their "
        "own password: 422 when it is wrong, 429 after too many wrong passwords for that "
        "clinician within the window."
    ),
)
def checklist_answer(request, session_id: int, payload: ChecklistAnswerIn):
    session = access_session(request, session_id, "session.chart")
    checker = None
    if payload.second_checker_username:
        checker = User.objects.filter(
            username=payload.second_checker_username, is_active=True
        ).first()
        if checker is None:
            trail.record(
                action="session.checklist",
                request=request,
                patient_id=session.patient_id,
                outcome=Outcome.INVALID,
                detail={"errors": {"second_checker_username": ["no such active clinician"]}},
            )
            raise ValidationError(
                {"second_checker_username": "No active clinician has that username."}
            )
    try:
        entry = checklist_record(
            request=request,
            session=session,
            code=payload.code,
            outcome=payload.outcome,
            note=payload.note,
            second_checker=checker,
            second_checker_password=payload.second_checker_password or "",
        )
    except verification.VerificationThrottled as throttled:
        message = throttled.messages[0]
        return Reply(
            429,
            {
                "message": message,
                "errors": [{"field": "second_checker_password", "message": message}],
            },
        )
    return Reply(201, entry)
