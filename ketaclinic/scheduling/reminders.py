"""Preparation reminders: built from the protocol, sent once per channel, recorded.

Later apps add paragraphs of their own (outcomes: the questionnaires due) from their
``AppConfig.ready()`` through :func:`register_lines`; scheduling may not import them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit import trail

from . import preparation, seed
from .models import Appointment, Reminder, Status
from .sms import send_sms

SALT = "ketaclinic.appointment-link"

ReminderLines = Callable[[Appointment], list[str]]
_extra_lines: list[ReminderLines] = []


def register_lines(lines: ReminderLines) -> None:
    """Add a paragraph to every reminder: ``lines(appointment)``, empty for none."""
    if lines not in _extra_lines:
        _extra_lines.append(lines)


def link_token(appointment: Appointment) -> str:
    return signing.dumps({"appointment": appointment.pk}, salt=SALT)


def appointment_from_token(token: str) -> Appointment | None:
    """The appointment a link is for, while the visit has not happened yet."""
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=60))
    except signing.BadSignature:
        return None
    appointment = (
        Appointment.objects.select_related("patient", "type").filter(pk=data["appointment"]).first()
    )
    if appointment is None or appointment.ends_at < timezone.now():
        return None
    return appointment


def link_url(appointment: Appointment) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "confirm", kwargs={"token": link_token(appointment)}
    )


def message(appointment: Appointment) -> str:
    lines = [
        f"Hello {appointment.patient.preferred_name or appointment.patient.given_name},",
        "",
        f"Your {appointment.type.name} is on {appointment.local_start:%A %d %B at %H:%M}.",
        "",
        "Before your visit:",
    ]
    lines += [f"- {step.text}" for step in preparation.instructions(appointment.type.protocol_code)]
    lines += [
        "",
        "Please confirm that you have read this and arranged your ride, or cancel, here:",
        link_url(appointment),
    ]
    for extra in _extra_lines:
        lines += extra(appointment)
    lines += ["", f"{settings.CLINIC_NAME}"]
    return "\n".join(lines)


def due(now: dt.datetime | None = None):
    """Visits starting within the reminder window that still expect the patient."""
    now = now or timezone.now()
    window = dt.timedelta(hours=seed.policy_value("reminder_hours_before"))
    return (
        Appointment.objects.filter(
            starts_at__gt=now,
            starts_at__lte=now + window,
            status__in=(Status.SCHEDULED, Status.CONFIRMED),
        )
        .select_related("patient", "type")
        .order_by("starts_at")
    )


def channels(appointment: Appointment) -> list[tuple[str, str]]:
    found = []
    if appointment.patient.email:
        found.append(("email", appointment.patient.email))
    if appointment.patient.phone:
        found.append(("sms", appointment.patient.phone))
    return found


def send_due(now: dt.datetime | None = None) -> int:
    """Send every due reminder not yet sent. Safe to run again, or twice at once."""
    sent = 0
    for appointment in due(now):
        body = message(appointment)
        for channel, recipient in channels(appointment):
            sent += send_once(appointment, channel, recipient, body)
    return sent


def send_once(appointment: Appointment, channel: str, recipient: str, body: str) -> int:
    """Claim the (appointment, channel) row, then send; a failed send releases the claim."""
    # Only the automatic reminder counts here: a staff re-send (kind "resend-<n>") earlier
    # does not stop the one sent inside the reminder window.
    if Reminder.objects.filter(
        appointment=appointment, channel=channel, kind="preparation"
    ).exists():
        return 0
    try:
        with transaction.atomic():
            Reminder.objects.create(
                appointment=appointment, channel=channel, recipient=recipient, body=body
            )
            deliver(channel, recipient, appointment, body)
            trail.record(
                action="reminder.sent",
                actor_username="send_reminders",
                patient_id=appointment.patient_id,
                target=appointment,
                detail={"channel": channel},
            )
    except IntegrityError:
        return 0  # another run claimed it first
    return 1


def deliver(channel: str, recipient: str, appointment: Appointment, body: str) -> None:
    if channel == "email":
        subject = f"Your visit on {appointment.local_start:%A %d %B}: how to prepare"
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    else:
        send_sms(recipient, body)
