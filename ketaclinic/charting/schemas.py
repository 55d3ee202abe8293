"""What the charting API reads and answers, as its OpenAPI document describes it.

The handlers (``api.py``) check bodies themselves where a schema cannot say enough (a batch
of readings is checked reading by reading); these classes then document the shapes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import ConfigDict


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
    label: str = Field(description="The alert as people read it, e.g. Blood pressure high.")
    level: str
    action: str
    basis: str
    minute: int | float
    finding: str
    message: str = Field(description="Label and finding: what a page shows.")


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


def reading_or_batch_body(item: dict) -> dict:
    """The OpenAPI request body of one reading object or ``{\"readings\": [...]}``."""
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
