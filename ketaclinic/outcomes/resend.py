"""Staff re-send a visit's reminder link or a questionnaire link from the chart (issue #12).

A reminder goes out once per channel automatically (``reminder_once_per_channel``); a
re-send is its own ``Reminder`` row with the kind ``resend-<n>``, so every message sent is
on record and the automatic one is never claimed twice. A questionnaire link re-send makes a
fresh single-use link (the old one still expires on its own). Both use the reminders' email
and SMS backends, and both are audited.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.patients.chart import chart_context
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import reminders
from ketaclinic.scheduling.models import Appointment, Reminder, Status
from ketaclinic.scheduling.sms import send_sms

from . import services

TAB = "reminders"
RESEND_PREFIX = "resend-"


def tab_url(patient_id: int) -> str:
    return reverse("patients:chart_tab", kwargs={"patient_id": patient_id, "tab": TAB})


def reminders_tab(request, patient: Patient) -> dict:
    upcoming = patient.appointments.upcoming().select_related("type").order_by("starts_at")[:8]
    sent = (
        Reminder.objects.filter(appointment__patient=patient)
        .select_related("appointment__type")
        .order_by("-sent_at")[:20]
    )
    return {
        "resend_visits": list(upcoming),
        "reminders_sent": list(sent),
        "resend_channels": _channels(patient),
    }


def _channels(patient: Patient) -> list[tuple[str, str]]:
    found = []
    if patient.email:
        found.append(("email", patient.email))
    if patient.phone:
        found.append(("sms", patient.phone))
    return found


def _refuse_no_channel(patient: Patient) -> list[tuple[str, str]]:
    channels = _channels(patient)
    if not channels:
        raise ValidationError(
            {"channel": "The record has no email address or mobile number to send to."}
        )
    return channels


def reminder_resend(*, request, appointment: Appointment) -> list[Reminder]:
    """Send the visit's reminder (with its confirm/cancel link) again on every channel."""
    if appointment.status not in (Status.SCHEDULED, Status.CONFIRMED):
        raise ValidationError(
            {"appointment": "Only a visit that is still expected can be reminded again."}
        )
    channels = _refuse_no_channel(appointment.patient)
    body = reminders.message(appointment)
    sent = []
    for channel, recipient in channels:
        for _attempt in range(3):
            number = (
                Reminder.objects.filter(
                    appointment=appointment, channel=channel, kind__startswith=RESEND_PREFIX
                ).count()
                + 1
            )
            try:
                with transaction.atomic():
                    row = Reminder.objects.create(
                        appointment=appointment,
                        channel=channel,
                        kind=f"{RESEND_PREFIX}{number}",
                        recipient=recipient,
                        body=body,
                    )
                    reminders.deliver(channel, recipient, appointment, body)
                    trail.record(
                        action="reminder.resent",
                        request=request,
                        patient_id=appointment.patient_id,
                        target=appointment,
                        detail={"channel": channel, "kind": row.kind},
                    )
            except IntegrityError:
                continue  # someone re-sent at the same moment: take the next number
            sent.append(row)
            break
    return sent


def questionnaire_link_resend(*, request, patient: Patient) -> list[str]:
    """A fresh single-use questionnaire link, sent by email and SMS; the channels used."""
    channels = _refuse_no_channel(patient)
    with transaction.atomic():
        url = services.link_url(services.link_create(request=request, patient=patient))
        name = patient.preferred_name or patient.given_name
        body = (
            f"Hello {name},\n\nPlease answer your questionnaires here (the link works once):\n"
            f"{url}\n\n{settings.CLINIC_NAME}"
        )
        for channel, recipient in channels:
            if channel == "email":
                send_mail("Your questionnaires", body, settings.DEFAULT_FROM_EMAIL, [recipient])
            else:
                send_sms(recipient, body)
        trail.record(
            action="outcome.link_sent",
            request=request,
            patient=patient,
            detail={"channels": [c for c, _ in channels]},
        )
    return [c for c, _ in channels]


def _error_page(request, patient: Patient, error: ValidationError):
    context = chart_context(request, patient, TAB)
    context["resend_errors"] = error.messages
    return render(request, "patients/chart.html", context, status=422)


@login_required
@require_POST
def resend_reminder(request, patient_id: int, appointment_id: int):
    patient = access_patient(request, patient_id, "reminder.resend")
    appointment = (
        Appointment.objects.select_related("patient", "type")
        .filter(pk=appointment_id, patient=patient)
        .first()
    )
    if appointment is None:
        refuse(request, patient_id, "reminder.resend", "no such appointment for this patient")
        raise Http404("No such visit.")
    try:
        sent = reminder_resend(request=request, appointment=appointment)
    except ValidationError as error:
        return _error_page(request, patient, error)
    messages.success(request, f"Reminder sent again ({', '.join(r.channel for r in sent)}).")
    return redirect(tab_url(patient_id))


@login_required
@require_POST
def resend_questionnaire_link(request, patient_id: int):
    patient = access_patient(request, patient_id, "reminder.resend")
    try:
        channels = questionnaire_link_resend(request=request, patient=patient)
    except ValidationError as error:
        return _error_page(request, patient, error)
    messages.success(request, f"Questionnaire link sent ({', '.join(channels)}).")
    return redirect(tab_url(patient_id))
