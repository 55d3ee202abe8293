"""The reminder link: a patient confirms preparation or cancels without signing in.

The signed token in the link is the credential; it only ever shows and changes its own
appointment, and stops working once the visit is over.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from ketaclinic.audit import trail

from . import preparation
from .models import AppointmentEvent, Preparation, Status
from .reminders import appointment_from_token

LINK_ACTOR = "patient-link"


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    appointment = appointment_from_token(token)
    if appointment is None:
        trail.record(
            action="appointment.link_refused",
            request=request,
            outcome="refused",
            actor_username=LINK_ACTOR,
        )
        raise Http404("This link has expired or is not valid.")
    context = {
        "appointment": appointment,
        "steps": preparation.instructions(appointment.type.protocol_code),
        "done": "",
        "errors": [],
    }
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            context["errors"] = confirm_preparation(request, appointment)
            context["done"] = "" if context["errors"] else "confirmed"
        elif action == "cancel" and appointment.may_become(Status.CANCELLED):
            record_status(request, appointment, Status.CANCELLED, "cancelled by the patient")
            context["done"] = "cancelled"
    return render(
        request, "scheduling/confirm.html", context, status=422 if context["errors"] else 200
    )


def confirm_preparation(request, appointment, via: str = "reminder_link") -> list[str]:
    fasting = request.POST.get("fasting_understood") == "on"
    ride = request.POST.get("ride_arranged") == "on"
    errors = []
    if not fasting:
        errors.append("Tick that you have read and understood the preparation instructions.")
    if not ride:
        errors.append("Tick that you have arranged for someone to take you home.")
    if errors or not (
        appointment.status == Status.CONFIRMED or appointment.may_become(Status.CONFIRMED)
    ):
        return errors or ["This visit can no longer be confirmed."]
    with transaction.atomic():
        Preparation.objects.update_or_create(
            appointment=appointment,
            defaults={"fasting_understood": fasting, "ride_arranged": ride, "via": via},
        )
        if appointment.status != Status.CONFIRMED:
            record_status(request, appointment, Status.CONFIRMED, "confirmed by the patient", via)
    return []


def record_status(request, appointment, to: str, reason: str, via: str = LINK_ACTOR) -> None:
    previous = appointment.status
    with transaction.atomic():
        appointment.status = to
        appointment.save(update_fields=["status"])
        AppointmentEvent.objects.create(
            appointment=appointment,
            by=None,
            kind="status",
            from_status=previous,
            to_status=to,
            detail={"reason": reason, "via": via},
        )
        trail.record(
            action=f"appointment.{to}",
            request=request,
            actor_username=LINK_ACTOR,
            patient_id=appointment.patient_id,
            target=appointment,
            detail={"status": [previous, to], "reason": reason},
        )
