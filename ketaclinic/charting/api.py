"""Charting API: opening a session, bedside-monitor vitals, the vital-sign evaluator.

``POST /api/v1/sessions`` opens the session of a checked-in treatment visit (as the
appointment page does): 422 for what the visit or plan lacks, 409 while the chair still
holds another running session.

``POST /api/v1/sessions/{id}/vitals`` takes readings from a bedside monitor. The monitor
authenticates with its own bearer token (``manage.py monitor_create``), is bound to a chair,
and may write only to the session running in that chair; any other session is "not found".
Every request carries an ``Idempotency-Key``: the first request with a key is processed and
its answer stored (``IngestionRequest``, unique per device and key, written in the same
transaction as the readings, so a concurrent duplicate fails on the unique key, loses its
readings with its transaction and replays the first answer); a repeat gets the stored
answer; the same key with another body is refused.

Readings that no body can show are rejected one by one with their index and reason, and
the rest of the batch is stored: 201 when anything was stored, 422 when nothing was.

``POST /api/v1/safety/evaluate-vitals`` runs readings through the clinic's vital-sign
policy without touching any record (``safety.evaluate_vitals_request``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Field, Header, Router, Schema
from ninja import Status as Reply
from ninja.security import HttpBearer
from pydantic import ConfigDict

from ketaclinic.accounts import verification
from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.scheduling.models import Appointment
from ketaclinic.web import inputs
from ketaclinic.web.json_errors import ApiError

from . import devices, safety, services, vitals, workflow
from .models import ACTIVE, IngestionRequest, TreatmentSession, VitalSource
from .access import access_session

router = Router(tags=["charting"])

#: Readings per request: ten hours of one-minute readings.
MAX_BATCH = 600
#: How far ahead of the server's clock a device's timestamp may be (clock drift).
CLOCK_SKEW = dt.timedelta(minutes=5)
WHOLE_NUMBER_FIELDS = frozenset(services.MEASUREMENTS) - {"temperature_c"}
TENTH = Decimal("0.1")


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


# ---------------------------------------------------------------- schemas (documentation)


class ReadingIn(Schema):
    taken_at: dt.datetime = Field(
        description="When the monitor took the reading: ISO 8601 with a UTC offset."
    )
    systolic_mmhg: int | None = Field(None, description="Plausible: 50–300.")
    diastolic_mmhg: int | None = Field(None, description="Plausible: 20–200, below systolic.")
    heart_rate_bpm: int | None = Field(None, description="Plausible: 20–250.")
    spo2_pct: int | None = Field(None, description="Plausible: 50–100.")
    resp_rate_per_min: int | None = Field(None, description="Plausible: 4–60.")
    temperature_c: float | None = Field(None, description="Plausible: 30–45; kept to 0.1 °C.")


class ErrorItem(Schema):
    field: str
    message: str


class RejectedOut(Schema):
    index: int = Field(description="Position of the reading in the batch (0 for one reading).")
    field: str
    message: str


class AlertOut(Schema):
    id: int
    code: str
    level: str
    action: str
    basis: str
    finding: str
    raised_at: str


class IngestOut(Schema):
    message: str
    errors: list[ErrorItem] = Field(
        default_factory=list, description="When nothing was stored: each rejection, by path."
    )
    session_id: int
    stored: int
    rejected: list[RejectedOut]
    alerts: list[AlertOut] = Field(description="Alerts the stored readings raised.")


def _body_schema(item: dict) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            item,
                            {
                                "type": "object",
                                "required": ["readings"],
                                "properties": {
                                    "readings": {"type": "array", "items": item, "minItems": 1}
                                },
                            },
                        ]
                    }
                }
            },
        }
    }


# ---------------------------------------------------------------- ingestion


class Refused(Exception):
    """Ends a request before anything is stored (its idempotency claim is rolled back)."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "errors": errors or []}


@dataclass(frozen=True)
class Rejection:
    index: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


def parse_json(raw: bytes) -> Any:
    """The body, or 422 naming what no field holds: not JSON, too deep, NUL characters."""
    try:
        # Numbers are checked reading by reading (one NaN rejects its reading, not the batch).
        return inputs.load_json(raw or b"null", check_numbers=False)
    except inputs.InvalidInput as problem:
        raise Refused(422, str(problem), [problem.as_error()]) from None


def batch_items(body: Any) -> list[Any]:
    """The readings of a body: ``{"readings": [...]}`` or one reading object."""
    if isinstance(body, dict) and "readings" in body:
        extra = sorted(set(body) - {"readings"})
        if extra:
            raise Refused(
                422,
                f'{extra[0]}: not a field of a batch; send {{"readings": [...]}}.',
                [{"field": extra[0], "message": "not a field of a batch"}],
            )
        items = body["readings"]
        if not isinstance(items, list) or not items:
            raise Refused(
                422,
                "readings: send a list of one or more readings.",
                [{"field": "readings", "message": "send a list of one or more readings"}],
            )
        if len(items) > MAX_BATCH:
            message = f"send at most {MAX_BATCH} readings per request, not {len(items)}"
            raise Refused(422, f"readings: {message}.", [{"field": "readings", "message": message}])
        return items
    if isinstance(body, dict):
        return [body]
    raise Refused(
        422,
        'Send one reading object or {"readings": [...]}.',
        [{"field": "", "message": "expected a reading object or a batch"}],
    )


def body_digest(session_id: int, body: Any) -> str:
    """The request's fingerprint: the session and the body as canonical JSON."""
    canonical = json.dumps(
        {"session": session_id, "body": body}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def taken_at_of(item: dict, now: dt.datetime) -> dt.datetime:
    raw = item.get("taken_at")
    if not isinstance(raw, str):
        raise vitals.ImplausibleReading(
            "taken_at", "taken_at is required: ISO 8601 with a UTC offset"
        )
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise vitals.ImplausibleReading(
            "taken_at", f"taken_at {raw!r} is not an ISO 8601 date and time"
        ) from None
    if moment.tzinfo is None:
        raise vitals.ImplausibleReading(
            "taken_at", f"taken_at {raw!r} needs a UTC offset, e.g. {raw}+00:00"
        )
    if moment > now + CLOCK_SKEW:
        raise vitals.ImplausibleReading(
            "taken_at", f"taken_at {raw} is in the future; check the monitor's clock"
        )
    return moment


def measurement(name: str, value: Any) -> Any:
    """A JSON value as the chart stores it; whole numbers except temperature (0.1 °C)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value  # check_reading names what is wrong with it
    if not math.isfinite(value):  # Python's JSON reader takes NaN and Infinity
        raise vitals.ImplausibleReading(name, f"{name} must be a finite number, not {value}")
    if name == "temperature_c":
        # A number too long to round (2e154) is left whole: check_reading refuses it by range.
        number = Decimal(str(value))
        return number.quantize(TENTH, rounding=ROUND_HALF_UP) if abs(number) < 10**6 else number
    if name in WHOLE_NUMBER_FIELDS and value != int(value):
        raise vitals.ImplausibleReading(name, f"{name} must be a whole number, not {value}")
    return int(value)


def reading_from(session: TreatmentSession, item: Any, now: dt.datetime) -> services.NewReading:
    """One reading of the body, checked; ``ImplausibleReading`` says what is wrong with it."""
    if not isinstance(item, dict):
        raise vitals.ImplausibleReading("reading", "a reading must be a JSON object")
    at = taken_at_of(item, now)
    values = {name: measurement(name, v) for name, v in item.items() if name != "taken_at"}
    new = services.NewReading(at=at, values=values)
    try:
        services.check_reading(session, new)
    except vitals.ImplausibleReading as problem:
        if problem.field == "minute":
            opened = timezone.localtime(session.opened_at).isoformat(timespec="seconds")
            raise vitals.ImplausibleReading(
                "taken_at", f"taken_at {item['taken_at']} is before the session opened ({opened})"
            ) from None
        raise
    return new


# What storing readings and judging them reads of the session (see services.vitals_record).
INGESTION_FIELDS = ("id", "patient_id", "chair_id", "status", "opened_at")


def running_session(device, session_id: int) -> TreatmentSession:
    """The session, locked, if it is running in the device's chair; otherwise 404."""
    # Raw, like the device lookup, because every batch asks; the row stays locked until
    # the batch is stored (SQLite's IMMEDIATE transaction already holds the database).
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = TreatmentSession.objects.raw(
        f"SELECT {', '.join(INGESTION_FIELDS)} "
        f"FROM {connection.ops.quote_name(TreatmentSession._meta.db_table)} "
        f"WHERE id = %s AND chair_id = %s{lock}",
        [session_id, device.chair_id],
    )
    session = next(iter(found), None)
    if session is None or session.status not in ACTIVE:
        raise Refused(404, "Not found.")
    return session


def alert_out(alert) -> dict:
    return {
        "id": alert.pk,
        "code": alert.code,
        "level": alert.level,
        "action": alert.action,
        "basis": alert.basis,
        "finding": alert.finding,
        "raised_at": alert.raised_at.isoformat(),
    }


def ingest(request, device, session_id: int, items: list, now: dt.datetime) -> tuple[int, dict]:
    """Check and store the readings; the answer's status and body."""
    session = running_session(device, session_id)
    accepted: list[services.NewReading] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            accepted.append(reading_from(session, item, now))
        except vitals.ImplausibleReading as problem:
            rejected.append(Rejection(index, problem.field, problem.message))
    alerts = []
    if accepted:
        _, alerts = services.vitals_record(
            session=session,
            readings=accepted,
            source=VitalSource.DEVICE,
            device=device,
            request=request,
        )
    if rejected:
        trail.record(
            action="session.vitals_rejected",
            request=request,
            actor_username=f"device:{device.pk}",
            patient_id=session.patient_id,
            target=session,
            outcome=Outcome.INVALID,
            detail={"rejected": [r.as_dict() for r in rejected], "stored": len(accepted)},
        )
    body = {
        "message": f"Stored {len(accepted)} of {len(items)} readings."
        + (f" {len(rejected)} rejected." if rejected else ""),
        "errors": [],
        "session_id": session.pk,
        "stored": len(accepted),
        "rejected": [r.as_dict() for r in rejected],
        "alerts": [alert_out(a) for a in alerts],
    }
    if accepted:
        return 201, body
    body["message"] = "No reading was stored: " + "; ".join(
        f"readings.{r.index}.{r.field}: {r.message}" for r in rejected
    )
    body["errors"] = [
        {"field": f"readings.{r.index}.{r.field}", "message": r.message} for r in rejected
    ]
    return 422, body


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
        "Implausible readings (REFERENCE.md section 3) are rejected with their index and "
        "reason and the rest stored: 201 when anything was stored, 422 when nothing was."
    ),
    openapi_extra=_body_schema(ReadingIn.model_json_schema()),
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
        body = parse_json(request.body)
        items = batch_items(body)
        digest = body_digest(session_id, body)
        try:
            # The key and its answer are stored in the same transaction as the readings, so
            # a repeat fails on the key's unique index, which rolls its readings back, and
            # replays the stored answer. Repeats are rare: the key is looked up only then.
            with transaction.atomic():
                status, answer = ingest(request, device, session_id, items, timezone.now())
                IngestionRequest.objects.create(
                    device=device,
                    key=idempotency_key,
                    body_sha256=digest,
                    response_status=status,
                    response=answer,
                )
        except IntegrityError:
            if (earlier := earlier_request(device, idempotency_key)) is None:
                raise  # not the key: a bug, not a retry
            return replay(request, response, earlier, digest)
    except Refused as refusal:
        if refusal.status == 404 and (earlier := earlier_request(device, idempotency_key)):
            return replay(request, response, earlier, digest)  # sent before the session ended
        if refusal.status == 404:
            trail.record(
                action="monitor.refused",
                request=request,
                actor_username=f"device:{device.pk}",
                outcome=Outcome.REFUSED,
                detail={"session": session_id, "chair": device.chair_id},
            )
        return api_error(request, refusal)
    return Reply(status, answer)


def earlier_request(device, key: str) -> IngestionRequest | None:
    return IngestionRequest.objects.filter(device=device, key=key).first()


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
    from ketaclinic.api import api

    return api.create_response(request, refusal.body, status=refusal.status)


# ---------------------------------------------------------------- stateless evaluation


class VitalsAtMinuteIn(Schema):
    minute: float = Field(description="Minutes from the session start; oldest first.")
    systolic_mmhg: float | None = None
    diastolic_mmhg: float | None = None
    heart_rate_bpm: float | None = None
    spo2_pct: float | None = None
    resp_rate_per_min: float | None = None
    temperature_c: float | None = None


class EvaluatedAlertOut(Schema):
    code: str
    level: str
    action: str
    basis: str
    minute: int | float
    finding: str


class PolicyOut(Schema):
    name: str
    version: int
    status: str
    source: str


class EvaluateVitalsOut(Schema):
    alerts: list[EvaluatedAlertOut] = Field(
        description="Alerts in force after the newest reading, critical first."
    )
    timeline: list[EvaluatedAlertOut] = Field(
        description="Every alert at the reading that raised it, oldest first."
    )
    policy: PolicyOut


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
    policy = services.clinic_policy()
    try:
        body = parse_json(request.body)
        if isinstance(body, dict) and (extra := sorted(set(body) - {"readings"})):
            raise vitals.ImplausibleReading(extra[0], f"{extra[0]} is not a field of this request")
        series = body.get("readings") if isinstance(body, dict) else None
        if isinstance(series, list) and len(series) > MAX_BATCH:
            # The timeline replays the series once per reading: quadratic, so bounded.
            raise vitals.ImplausibleReading(
                "readings", f"send at most {MAX_BATCH} readings, not {len(series)}"
            )
        result = safety.evaluate_vitals_request(body, policy, services.clinic_limits())
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


class SessionOpenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    appointment_id: int = Field(ge=1, le=2**63 - 1, description="A checked-in treatment visit.")


class OpenedSessionOut(Schema):
    id: int
    patient_id: int
    appointment_id: int
    chair_id: int | None
    status: str
    session_number: int
    route: str
    planned_dose_mg: Decimal
    opened_at: dt.datetime


class SessionOpenRefusedOut(Schema):
    """The standard error body; a 409 also names the session still running in the chair."""

    message: str
    errors: list[ErrorItem]
    running_session_id: int | None = None


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
        session = services.session_open(request=request, appointment=appointment)
    except ValidationError as error:
        trail.record(
            action="session.open",
            request=request,
            patient_id=appointment.patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": error.message_dict, "appointment": appointment.pk},
        )
        raise
    except services.ChairBusy as busy:  # audited as refused by the service
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


class ChecklistAnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=60, description="The checklist item's code.")
    outcome: str = Field(pattern="^(passed|failed)$", description="passed or failed (not met).")
    note: str = Field("", max_length=300, description="Needed when the item is not met.")
    second_checker_username: str | None = Field(
        None,
        max_length=150,
        description="For a two-clinician check (the dose check): the other nurse or prescriber.",
    )
    second_checker_password: str | None = Field(
        None,
        max_length=200,
        description="The second clinician's own password: they sign the check with it. Wrong "
        "passwords are audited and, after too many for one clinician, refused with 429 for a "
        "while; they never count toward that clinician's sign-in lockout.",
    )


class ChecklistEntryOut(Schema):
    id: int
    session_id: int
    code: str
    outcome: str
    note: str
    recorded_by: str
    second_checker: str | None
    at: dt.datetime

    @staticmethod
    def resolve_recorded_by(entry) -> str:
        return entry.recorded_by.username

    @staticmethod
    def resolve_second_checker(entry) -> str | None:
        return entry.second_checker.username if entry.second_checker_id else None


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
        entry = workflow.checklist_record(
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
