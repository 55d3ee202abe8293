"""Questionnaire links: single-use, expiring links a reminder sends to a patient.

Only the token's digest is stored. Redeeming is a conditional update, so two simultaneous
uses of one link cannot both succeed; every use and refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.models import Patient

from .models import QuestionnaireLink, token_digest

# A reminder's questionnaire link works once, for this long [U: clinic policy].
LINK_VALID_HOURS = 72
# After a link is used, the browser may answer that patient's questionnaires this long [U].
LINK_SESSION_MINUTES = 60


def link_create(*, request, patient: Patient, hours: int = LINK_VALID_HOURS) -> str:
    """A new single-use link token for ``patient`` (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    user = getattr(request, "user", None)
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            patient=patient,
            token_hash=token_digest(token),
            created_by=user if user is not None and user.is_authenticated else None,
            expires_at=timezone.now() + dt.timedelta(hours=hours),
        )
        trail.record(
            action="outcome.link_create",
            request=request,
            patient=patient,
            target=link,
            detail={"expires_at": link.expires_at.isoformat()},
            actor_username="" if link.created_by_id else "reminders",
        )
    return token


def link_url(token: str) -> str:
    """The absolute URL of a questionnaire link, for a reminder's email or SMS."""
    base = getattr(settings, "SITE_URL", "http://127.0.0.1:8000")
    return base.rstrip("/") + reverse("questionnaires:link", kwargs={"token": token})


def reminder_link(patient: Patient) -> str:
    """A fresh single-use link for a reminder to send (the reminders call this)."""
    return link_url(link_create(request=None, patient=patient))


def link_redeem(*, request, token: str) -> Patient | None:
    """The link's patient if the token is valid, unused and unexpired; marks it used.

    The update is conditional, so two simultaneous uses of one link cannot both succeed.
    """
    now = timezone.now()
    digest = token_digest(token)
    with transaction.atomic():
        used = QuestionnaireLink.objects.filter(
            token_hash=digest, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        link = QuestionnaireLink.objects.select_related("patient").filter(token_hash=digest).first()
        if not used:
            trail.record(
                action="outcome.link_refused",
                request=request,
                patient_id=link.patient_id if link else None,
                outcome=Outcome.REFUSED,
                detail={"reason": _refusal(link)},
                actor_username="anonymous link",
            )
            return None
        trail.record(
            action="outcome.link_used",
            request=request,
            patient=link.patient,
            target=link,
            actor_username=f"patient link ({link.patient.mrn})",
        )
    return link.patient


def _refusal(link: QuestionnaireLink | None) -> str:
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "already used"
    return "expired"
