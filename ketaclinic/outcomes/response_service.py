"""Questionnaire responses: answers from the portal, a paper form, a phone call or an interview.

Complete answers are scored (``scoring.score``) and the score is kept with them; incomplete
ones are stored as in progress, never scored. A completed questionnaire fulfils the open
measures of its instrument whose window has opened, and every flag it raises opens a safety
task in the same transaction. A response given in error is marked so, with a reason; the
measures it fulfilled are due again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.trail import reject
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanStatus

from . import scoring
from .measurement_service import fulfil_tasks
from .models import (
    Channel,
    InstrumentDefinition,
    MeasurementTask,
    Response,
    ResponseStatus,
    TaskStatus,
)
from .safety_task_service import raise_safety_tasks


def clean_answers(definition: InstrumentDefinition, answers: Sequence[Any]) -> list[int | None]:
    """Answers as whole numbers or None; ValidationError naming the item otherwise."""
    instrument = definition.instrument
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValidationError({"answers": "Answers are a list, one per item."})
    cleaned: list[int | None] = []
    for number, value in enumerate(answers, start=1):
        if value is None or value == "":
            cleaned.append(None)
            continue
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValidationError(
                    {f"item_{number}": f"item {number}: answer must be a whole number."}
                ) from None
        cleaned.append(value)
    # Trailing blanks are unanswered items; keep one slot per item so the form refills.
    cleaned += [None] * (len(instrument.items) - len(cleaned))
    return cleaned


def current_plan(patient: Patient):
    return (
        patient.plans.filter(status__in=[PlanStatus.ACTIVE]).order_by("-signed_at", "-id").first()
    )


def _active_session(patient: Patient):
    return TreatmentSession.objects.active().filter(patient=patient).order_by("-opened_at").first()


def response_save(
    *,
    request,
    patient: Patient,
    definition: InstrumentDefinition,
    answers: Sequence[Any],
    channel: str,
    response: Response | None = None,
    submitted_at: dt.datetime | None = None,
) -> Response:
    """Store answers (new, or continuing an in-progress response); score them if complete.

    ``request.user`` entered them: the patient on the portal (or None through a link), or a
    staff member for paper, phone and clinician-rated entries.
    """
    user = getattr(request, "user", None)
    entered_by = user if user is not None and user.is_authenticated else None
    try:
        _check_channel(definition, channel, entered_by)
        cleaned = clean_answers(definition, answers)
        result = _score(definition, cleaned)
        now = timezone.now()
        if submitted_at is not None and submitted_at > now + dt.timedelta(minutes=5):
            raise ValidationError({"submitted_at": "Answers cannot be given in the future."})
        _check_continuation(response, patient, definition)
    except ValidationError as error:
        reject(request, "outcome.response", error, patient.pk)

    with transaction.atomic():
        if response is None:
            response = Response(
                patient=patient,
                instrument=definition,
                instrument_version=definition.version,
                channel=channel,
                entered_by=entered_by,
                plan=current_plan(patient),
                session=_active_session(patient),
                started_at=now,
            )
        complete = _keep_answers(response, cleaned, result, now, submitted_at)
        detail = {
            "instrument": definition.code,
            "version": definition.version,
            "channel": channel,
            "status": response.status,
        }
        if complete:
            detail.update(_on_completion(request, response, definition, result))
        else:
            detail["missing_items"] = list(result.missing_items)
        trail.record(
            action="outcome.response_complete" if complete else "outcome.response_progress",
            request=request,
            patient=patient,
            target=response,
            detail=detail,
            actor_username="" if entered_by else f"patient link ({patient.mrn})",
        )
    return response


def _check_channel(definition: InstrumentDefinition, channel: str, entered_by) -> None:
    """Staff enter paper, phone and interview answers; clinicians rate, patients answer."""
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if channel != Channel.PORTAL and entered_by is None:
        raise ValidationError({"channel": "Paper, phone and interview entries need a user."})
    if definition.rater == "clinician" and channel != Channel.INTERVIEW:
        raise ValidationError(
            {"channel": f"{definition.name} is clinician-rated: enter it as an interview."}
        )
    if definition.rater == "patient" and channel == Channel.INTERVIEW:
        raise ValidationError(
            {"channel": f"{definition.name} is answered by the patient, not rated."}
        )


def _score(definition: InstrumentDefinition, cleaned: list[int | None]):
    """The score of complete answers, or what is missing; ValidationError naming the item."""
    try:
        return scoring.score(definition.instrument, cleaned)
    except scoring.AnswerError as error:
        raise ValidationError({f"item_{error.item}": str(error)}) from None
    except scoring.ScoringError as error:
        raise ValidationError({"answers": str(error)}) from None


def _check_continuation(
    response: Response | None, patient: Patient, definition: InstrumentDefinition
) -> None:
    if response is not None and (
        response.status != ResponseStatus.IN_PROGRESS
        or response.patient_id != patient.pk
        or response.instrument_id != definition.code
    ):
        raise ValidationError({"answers": "Only an in-progress questionnaire can be continued."})


def _keep_answers(
    response: Response, cleaned: list[int | None], result, now: dt.datetime, submitted_at
) -> bool:
    """Save the answers, with the score when complete; whether the response is complete."""
    response.answers = cleaned
    response.updated_at = now
    complete = isinstance(result, scoring.ScoreResult)
    if complete:
        response.status = ResponseStatus.COMPLETED
        response.total = result.total
        response.band = result.band or ""
        response.flags = list(result.flags)
        response.subscores = dict(result.subscores)
        response.provisional_ptsd = result.provisional_ptsd
        response.submitted_at = submitted_at or now
    response.save()
    return complete


def _on_completion(
    request, response: Response, definition: InstrumentDefinition, result
) -> dict[str, Any]:
    """A completed questionnaire fulfils its due measures and raises its safety tasks."""
    fulfilled = fulfil_tasks(response)
    tasks = raise_safety_tasks(request, response, definition)
    return {
        "total": result.total,
        "band": result.band,
        "flags": list(result.flags),
        "tasks_fulfilled": fulfilled,
        "safety_tasks": [task.pk for task in tasks],
    }


def response_mark_in_error(*, request, response: Response, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        reject(
            request,
            "outcome.response_error",
            ValidationError({"reason": "Give a reason."}),
            response.patient_id,
        )
    with transaction.atomic():
        old = response.status
        response.status = ResponseStatus.ENTERED_IN_ERROR
        response.error_reason = reason[:300]
        response.updated_at = timezone.now()
        response.save(update_fields=["status", "error_reason", "updated_at"])
        # The measures it fulfilled are due again.
        MeasurementTask.objects.filter(response=response).update(
            status=TaskStatus.OPEN, response=None, closed_at=None
        )
        trail.record(
            action="outcome.response_error",
            request=request,
            patient_id=response.patient_id,
            target=response,
            detail={"old": old, "reason": response.error_reason},
        )
