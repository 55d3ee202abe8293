"""Writes to consultation requests: the public submission and each triage step.

Each validates, saves and audits in one transaction; nothing of a refused write is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Patient, Sex
from ketaclinic.web.client import client_address

from . import requests as checks
from .models import (
    ConsultationRequest,
    Status,
    SubmissionAttempt,
    TriageEvent,
    new_reference,
)

# Per client address: this many accepted submissions an hour, then 429 until the hour passes.
RATE_LIMIT = 5
RATE_WINDOW = dt.timedelta(hours=1)
# The same person sending again within this window is one request (a double click, a
# resend after a slow answer), answered with the first request's reference.
DUPLICATE_WINDOW = dt.timedelta(minutes=10)
PUBLIC_ACTOR = "anonymous (public form)"


class RateLimited(Exception):
    """Too many submissions from one client address (HTTP 429)."""

    message = (
        "Too many requests from your connection in the past hour. Please try again later, "
        "or telephone the clinic."
    )


class TriageConflict(Exception):
    """The request's status does not allow the step (HTTP 409)."""


@dataclass(frozen=True)
class Submitted:
    reference: str
    urgent: bool
    stored: bool  # False for a honeypot submission: answered the same, nothing kept


def client_key(request) -> str:
    """A keyed hash of the client's address: recognises a sender without storing who."""
    address = client_address(request) or "unknown"
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def rate_limited(key: str, now: dt.datetime) -> bool:
    recent = SubmissionAttempt.objects.filter(client_key=key, at__gt=now - RATE_WINDOW)
    return recent.count() >= RATE_LIMIT


def request_submit(
    *, request, values: dict[str, Any], honeypot: str = "", now: dt.datetime | None = None
) -> Submitted:
    """Store a public consultation request (or fold it into one sent minutes ago).

    ``honeypot`` is a field people never see; a bot that fills it is answered like anyone
    else (so it learns nothing) but nothing of its request is kept.
    """
    now = now or timezone.now()
    key = client_key(request)
    with transaction.atomic():
        # One client's submissions one at a time, so five at once cannot all pass the count.
        hold(f"client:{key}")
        limited = rate_limited(key, now)
        found = {} if limited else checks.problems(values, timezone.localdate(now))
        if not limited and not found:
            return accept(request, key, checks.cleaned(values), honeypot, now)
    # Refusals are written after the block: nothing in it was kept.
    if limited:
        trail.record(
            action="consultation_request.submit",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"reason": "rate limit"},
            actor_username=PUBLIC_ACTOR,
        )
        raise RateLimited()
    trail.record(
        action="consultation_request.submit",
        request=request,
        outcome=Outcome.INVALID,
        detail={"errors": found},
        actor_username=PUBLIC_ACTOR,
    )
    raise ValidationError(found)


def hold(name: str) -> None:
    """Serialise writers on ``name`` until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock (the rows to check may not exist yet, so
    there is nothing to ``SELECT ... FOR UPDATE``). SQLite: IMMEDIATE transactions already
    serialise every writer.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


def accept(request, key: str, values: dict[str, Any], honeypot: str, now) -> Submitted:
    # Attempts older than the window count for nothing: keep the table to the last hour.
    SubmissionAttempt.objects.filter(at__lt=now - RATE_WINDOW).delete()
    SubmissionAttempt.objects.create(client_key=key, at=now)
    if honeypot:
        trail.record(
            action="consultation_request.submit",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"reason": "honeypot filled"},
            actor_username=PUBLIC_ACTOR,
        )
        return Submitted(reference=new_reference(), urgent=False, stored=False)
    fingerprint = checks.fingerprint(
        values["given_name"], values["family_name"], values["date_of_birth"], values["email"]
    )
    # The same person from two connections at once is still one request.
    hold(f"person:{fingerprint}")
    earlier = (
        ConsultationRequest.objects.select_for_update()
        .filter(fingerprint=fingerprint, created_at__gt=now - DUPLICATE_WINDOW)
        .order_by("created_at")
        .first()
    )
    if earlier is not None:
        return fold_into(request, earlier, values, now)
    return create(request, values, fingerprint, now)


def create(request, values: dict[str, Any], fingerprint: str, now: dt.datetime) -> Submitted:
    urgent = bool(values.get("suicidal_thoughts"))
    fields = {name: values[name] for name in SUBMITTED_FIELDS}
    for _attempt in range(5):
        reference = new_reference()
        try:
            with transaction.atomic():
                consultation = ConsultationRequest.objects.create(
                    **fields,
                    reference=reference,
                    suicidal_thoughts=urgent,
                    urgent=urgent,
                    fingerprint=fingerprint,
                    created_at=now,
                    updated_at=now,
                )
            break
        except IntegrityError:
            # A reference drawn twice; draw again. Anything else repeats and raises.
            if not ConsultationRequest.objects.filter(reference=reference).exists():
                raise
    else:
        raise RuntimeError("could not allocate a unique reference")
    TriageEvent.objects.create(request=consultation, at=now, to_status=Status.NEW)
    trail.record(
        action="consultation_request.submit",
        request=request,
        target=consultation,
        detail={"reference": consultation.reference, "urgent": urgent},
        actor_username=PUBLIC_ACTOR,
    )
    return Submitted(consultation.reference, urgent, stored=True)


SUBMITTED_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "state_or_region",
    "conditions",
    "current_treatment",
    "preferred_contact",
    "message",
    "consent_to_contact",
)


def fold_into(request, earlier: ConsultationRequest, values, now: dt.datetime) -> Submitted:
    """A resubmission: the first request stands; a newly ticked suicidal-thoughts box counts."""
    escalated = bool(values.get("suicidal_thoughts")) and not earlier.urgent
    if escalated:
        earlier.suicidal_thoughts = earlier.urgent = True
        earlier.updated_at = now
        earlier.save(update_fields=["suicidal_thoughts", "urgent", "updated_at"])
        TriageEvent.objects.create(
            request=earlier,
            at=now,
            kind="urgent",
            note="A resubmission ticked thoughts of suicide.",
        )
    trail.record(
        action="consultation_request.submit",
        request=request,
        target=earlier,
        detail={"reference": earlier.reference, "duplicate_of": earlier.pk, "escalated": escalated},
        actor_username=PUBLIC_ACTOR,
    )
    return Submitted(earlier.reference, earlier.urgent, stored=True)


# --- Staff: triage ------------------------------------------------------------------------


def locked(consultation: ConsultationRequest) -> ConsultationRequest:
    return ConsultationRequest.objects.select_for_update().get(pk=consultation.pk)


def request_transition(
    *, request, consultation: ConsultationRequest, to_status: str, reason: str = ""
) -> ConsultationRequest:
    """Move the request one step along ``TRANSITIONS``; declining needs a reason."""
    reason = (reason or "").strip()
    if to_status not in Status.values:
        raise ValidationError({"status": f"must be one of {', '.join(Status.values)}"})
    if to_status == Status.CONVERTED:
        raise ValidationError(
            {"status": "converting creates the patient: use the convert step instead"}
        )
    if to_status == Status.DECLINED and not reason:
        raise ValidationError({"reason": "say why the request is declined"})
    if "\x00" in reason or len(reason) > 2000:
        raise ValidationError({"reason": "must be at most 2000 characters, without NUL"})
    with transaction.atomic():
        current = locked(consultation)
        allowed = current.can_move_to(to_status)
        if allowed:
            record_step(request, current, to_status, reason)
    if not allowed:
        # Written after the block: an exception inside it would roll the refusal back.
        trail.record(
            action="consultation_request.transition",
            request=request,
            target=current,
            outcome=Outcome.REFUSED,
            detail={"from": current.status, "to": to_status},
        )
        raise TriageConflict(
            f"A request that is {current.get_status_display().lower()} cannot become "
            f"{Status(to_status).label.lower()}."
        )
    return current


def record_step(request, current: ConsultationRequest, to_status: str, note: str) -> None:
    now = timezone.now()
    from_status = current.status
    current.status = to_status
    current.updated_at = now
    if to_status == Status.DECLINED:
        current.decline_reason = note
    current.save(update_fields=["status", "updated_at", "decline_reason", "patient"])
    TriageEvent.objects.create(
        request=current,
        at=now,
        by=request.user,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    trail.record(
        action="consultation_request.transition",
        request=request,
        target=current,
        patient_id=current.patient_id,
        detail={"from": from_status, "to": to_status, "note": note},
    )


def request_red_flag(*, request, consultation: ConsultationRequest, note: str) -> None:
    """A prescriber's early concern (e.g. active psychosis mentioned), shown prominently."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "describe the concern"})
    if "\x00" in note or len(note) > 2000:
        raise ValidationError({"note": "must be at most 2000 characters, without NUL"})
    now = timezone.now()
    with transaction.atomic():
        current = locked(consultation)
        current.red_flag, current.red_flag_by, current.red_flag_at = note, request.user, now
        current.updated_at = now
        current.save(update_fields=["red_flag", "red_flag_by", "red_flag_at", "updated_at"])
        TriageEvent.objects.create(
            request=current, at=now, by=request.user, kind="red_flag", note=note
        )
        trail.record(
            action="consultation_request.red_flag",
            request=request,
            target=current,
            detail={"note": note},
        )
    consultation.refresh_from_db()


def request_convert(
    *,
    request,
    consultation: ConsultationRequest,
    sex: str = Sex.UNKNOWN,
    confirm_duplicate: bool = False,
    confirmed_ids: Collection[int] | None = None,
) -> Patient:
    """Create the patient from the request's answers and link the two.

    Demographics and contact details carry over; the conditions the person named stay on the
    linked request as their own words (nothing becomes a diagnosis without a clinician).
    Raises ``DuplicatePatient`` (audited, nothing created) when the name and birth date match
    existing records and the caller has not confirmed this is someone else.
    """
    if sex not in Sex.values:
        raise ValidationError({"sex": f"must be one of {', '.join(Sex.values)}"})
    refused: patient_services.DuplicatePatient | None = None
    with transaction.atomic():
        current = locked(consultation)
        if not current.can_move_to(Status.CONVERTED):
            raise TriageConflict(
                f"A request that is {current.get_status_display().lower()} cannot be converted."
            )
        try:
            patient = patient_services.patient_create(
                request=request,
                patient=patient_from(current, sex),
                confirm_duplicate=confirm_duplicate,
                confirmed_ids=confirmed_ids,
            )
        except patient_services.DuplicatePatient as duplicate:
            # Kept outside the atomic block's exception path so the refusal's audit rows
            # commit while nothing else does.
            refused = duplicate
        else:
            current.patient = patient
            record_step(request, current, Status.CONVERTED, f"Patient {patient.mrn} created.")
    if refused is not None:
        raise refused
    consultation.refresh_from_db()
    return patient


def patient_from(consultation: ConsultationRequest, sex: str) -> Patient:
    return Patient(
        given_name=consultation.given_name,
        family_name=consultation.family_name,
        date_of_birth=consultation.date_of_birth,
        sex=sex,
        email=consultation.email,
        phone=consultation.phone,
        region=consultation.state_or_region,
    )
