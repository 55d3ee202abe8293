"""The portal page that prepares the patient for their visits (issue #12).

Upcoming visits with their preparation instructions (from the protocol, the same ones the
reminder sends), confirming "fasting understood / ride arranged" or cancelling with the same
rule and service as the reminder link, the questionnaires due, signed consents, the discharge
instructions of past sessions and the education pages about the patient's plan.

It lives in outcomes because it gathers from scheduling, charting and intake, which come
before outcomes in the dependency order.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.roles import Role
from ketaclinic.charting.models import Discharge
from ketaclinic.intake import consent_services, learn
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import patient_link, preparation
from ketaclinic.scheduling.models import Appointment, Status

from . import services
from .tabs import portal_questionnaires_due

VIA = "portal"


def own_patient(request, permission: str, section: str = "") -> Patient:
    record = getattr(request.user, "patient_record", None)
    if request.user.role != Role.PATIENT or record is None:
        raise Http404
    return access_patient(request, record.pk, permission, section=section)


def plan_codes(patient: Patient) -> set[str]:
    """The indication and route codes of the patient's plan (else their diagnoses)."""
    plan = services.current_plan(patient)
    if plan is not None:
        return {plan.indication, plan.route}
    codes = {d.indication for d in patient.diagnoses.valid().filter(status="active")}
    return {code for code in codes if code}


def visits(patient: Patient) -> list[dict]:
    upcoming = (
        patient.appointments.upcoming()
        .select_related("type", "preparation")
        .order_by("starts_at")[:8]
    )
    return [
        {
            "appointment": appointment,
            "steps": preparation.instructions(appointment.type.protocol_code),
            "preparation": getattr(appointment, "preparation", None),
            "may_confirm": appointment.status == Status.CONFIRMED
            or appointment.may_become(Status.CONFIRMED),
            "may_cancel": appointment.may_become(Status.CANCELLED),
        }
        for appointment in upcoming
    ]


def _page(request, patient: Patient, *, errors=None, error_for=None, status=200):
    discharges = (
        Discharge.objects.filter(session__patient=patient)
        .select_related("session")
        .order_by("-signed_at")[:10]
    )
    return render(
        request,
        "outcomes/portal/prepare.html",
        {
            "patient": patient,
            "visits": visits(patient),
            "errors": errors or [],
            "error_for": error_for,
            "questionnaires_due": portal_questionnaires_due(patient),
            "signatures": consent_services.signatures(patient),
            "discharges": discharges,
            "pages": learn.pages_for(plan_codes(patient)),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def prepare(request):
    patient = own_patient(request, "appointment.view", section="portal visits")
    return _page(request, patient)


def _own_appointment(request, patient: Patient, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "type")
        .filter(pk=appointment_id, patient=patient)
        .first()
    )
    if appointment is None:
        refuse(request, patient.pk, "appointment.view", "no such appointment for this patient")
        raise Http404("No such visit.")
    return appointment


@login_required
@require_POST
def visit_action(request, appointment_id: int):
    """Confirm preparation or cancel, exactly as the reminder link does, from the portal."""
    patient = own_patient(request, "appointment.view")
    appointment = _own_appointment(request, patient, appointment_id)
    action = request.POST.get("action")
    if action == "confirm":
        errors = patient_link.confirm_preparation(request, appointment, via=VIA)
        if errors:
            return _page(request, patient, errors=errors, error_for=appointment.pk, status=422)
    elif action == "cancel":
        if not appointment.may_become(Status.CANCELLED):
            return _page(
                request,
                patient,
                errors=["This visit can no longer be cancelled here; please call the clinic."],
                error_for=appointment.pk,
                status=409,
            )
        patient_link.record_status(
            request, appointment, Status.CANCELLED, "cancelled by the patient", VIA
        )
    else:
        return _page(
            request,
            patient,
            errors=["Choose to confirm or to cancel."],
            error_for=appointment.pk,
            status=422,
        )
    return redirect("portal_prepare:prepare")
