"""Readings from a bedside monitor: a batch checked reading by reading, stored, answered once.

The monitor is bound to a chair and may write only to the session running in that chair;
any other session is "not found". Every request carries an ``Idempotency-Key``: the first
request with a key is processed and its answer stored (``IngestionRequest``, unique per
device and key, written in the same transaction as the readings, so a concurrent duplicate
fails on the unique key, loses its readings with its transaction and replays the first
answer); a repeat gets the stored answer; the same key with another body is refused.

Readings that no body can show are rejected one by one with their index and reason, and
the rest of the batch is stored: 201 when anything was stored, 422 when nothing was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.web import inputs

from . import vitals
from .models import ACTIVE, IngestionRequest, TreatmentSession, VitalSource
from .vitals_service import NewReading, check_reading, vitals_record

#: Readings per request: ten hours of one-minute readings.
MAX_BATCH = 600
#: How far ahead of the server's clock a device's timestamp may be (clock drift).
CLOCK_SKEW = dt.timedelta(minutes=5)
WHOLE_NUMBER_FIELDS = frozenset(vitals.MEASUREMENT_FIELDS) - {"temperature_c"}
TENTH = Decimal("0.1")
# What storing readings and judging them reads of the session (``vitals_service.vitals_record``;
# the dose times give the phase an alert's advice fits).
INGESTION_FIELDS = (
    "id",
    "patient_id",
    "chair_id",
    "status",
    "opened_at",
    "dose_started_at",
    "dose_ended_at",
)


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


# ---------------------------------------------------------------- reading the body


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


# ---------------------------------------------------------------- one reading


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


def reading_from(session: TreatmentSession, item: Any, now: dt.datetime) -> NewReading:
    """One reading of the body, checked; ``ImplausibleReading`` says what is wrong with it."""
    if not isinstance(item, dict):
        raise vitals.ImplausibleReading("reading", "a reading must be a JSON object")
    at = taken_at_of(item, now)
    values = {name: measurement(name, v) for name, v in item.items() if name != "taken_at"}
    new = NewReading(at=at, values=values)
    try:
        check_reading(session, new)
    except vitals.ImplausibleReading as problem:
        if problem.field == "minute":
            opened = timezone.localtime(session.opened_at).isoformat(timespec="seconds")
            raise vitals.ImplausibleReading(
                "taken_at", f"taken_at {item['taken_at']} is before the session opened ({opened})"
            ) from None
        raise
    return new


# ---------------------------------------------------------------- the batch


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
    accepted: list[NewReading] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            accepted.append(reading_from(session, item, now))
        except vitals.ImplausibleReading as problem:
            rejected.append(Rejection(index, problem.field, problem.message))
    alerts = []
    if accepted:
        _, alerts = vitals_record(
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
    return answer(session, len(items), accepted, rejected, alerts)


def answer(
    session: TreatmentSession,
    sent: int,
    accepted: list[NewReading],
    rejected: list[Rejection],
    alerts: list,
) -> tuple[int, dict]:
    """201 with what was stored and rejected; 422 naming each rejection when nothing was."""
    body = {
        "message": f"Stored {len(accepted)} of {sent} readings."
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


def earlier_request(device, key: str) -> IngestionRequest | None:
    """The stored answer to an earlier request with this key, if any."""
    return IngestionRequest.objects.filter(device=device, key=key).first()


def refused_monitor(request, device, session_id: int) -> None:
    """Audit a monitor writing to a session not running in its chair (answered 404)."""
    trail.record(
        action="monitor.refused",
        request=request,
        actor_username=f"device:{device.pk}",
        outcome=Outcome.REFUSED,
        detail={"session": session_id, "chair": device.chair_id},
    )
