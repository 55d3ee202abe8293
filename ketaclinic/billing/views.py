"""Billing pages: coverage, prior authorization, the Spravato prior-authorization packet."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.web.pdf import PdfUnavailable

from . import authorization_services, coverage_services, packet, packet_record
from . import packet_pdf as packet_pdf_render
from .authorization import allowed_next
from .forms import AuthorizationForm, CoverageForm
from .models import AuthStatus


@login_required
def coverage_add(request, patient_id: int):
    """Add or change the patient's coverage: the current one is closed, kept as history."""
    patient = access_patient(request, patient_id, "coverage.edit")
    current = coverage_services.current_coverage(patient)
    initial = {}
    if current is not None:
        initial = {
            f: getattr(current, f) for f in coverage_services.FIELDS if f != "effective_from"
        }
    form = CoverageForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                coverage_services.coverage_add(request=request, patient=patient, entry=form.entry())
            except ValidationError as problem:
                for field, errors in problem.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Coverage saved; the previous one is kept in history.")
                return redirect("patients:chart_tab", patient.pk, "coverage")
        else:
            trail.record(
                action="coverage.create",
                request=request,
                patient=patient,
                outcome="invalid",
                detail={"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}},
            )
    return render(
        request,
        "billing/coverage_form.html",
        {"form": form, "patient": patient, "current": current},
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- prior authorization


def patient_plan(request, patient_id: int, plan_id: int, permission: str, section: str = ""):
    """The plan of a patient the user may act on with ``permission`` (404/403 as usual)."""
    patient = access_patient(request, patient_id, permission, section=section)
    plan = (
        patient.plans.select_related("screening__signed_by", "patient").filter(pk=plan_id).first()
    )
    if plan is None:
        refuse(request, patient.pk, permission, "no such plan for this patient")
        raise Http404("No such plan.")
    return patient, plan


@login_required
def authorization(request, patient_id: int, plan_id: int):
    """Change a plan's prior authorization along its transitions; the history is kept."""
    patient, plan = patient_plan(request, patient_id, plan_id, "prior_auth.edit")
    auth = authorization_services.authorization_of(plan)
    choices = [(s, AuthStatus(s).label) for s in sorted(allowed_next(auth.status if auth else ""))]
    form = AuthorizationForm(request.POST or None, choices=choices)
    if request.method == "POST":
        if form.is_valid():
            try:
                authorization_services.authorization_change(
                    request=request, plan=plan, change=form.change(), note=form.cleaned_data["note"]
                )
            except ValidationError as problem:
                for field, errors in problem.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Prior authorization updated.")
                return redirect(
                    reverse("plans:detail", args=[patient.pk, plan.pk]) + "#prior-authorization"
                )
        else:
            trail.record(
                action="prior_auth.change",
                request=request,
                patient=patient,
                target=plan,
                outcome="invalid",
                detail={"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}},
            )
    return render(
        request,
        "billing/authorization_form.html",
        {
            "form": form,
            "patient": patient,
            "plan": plan,
            "auth": auth,
            "events": list(auth.events.select_related("by")) if auth else [],
        },
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- the packet


def packet_of(request, patient_id: int, plan_id: int):
    patient, plan = patient_plan(request, patient_id, plan_id, "prior_auth.packet")
    if plan.route != authorization_services.ESKETAMINE:
        refuse(request, patient.pk, "prior_auth.packet", "packet is for esketamine plans")
        raise Http404("The prior-authorization packet is for esketamine plans.")
    return plan, packet.assemble(packet_record.record_for(plan))


def audit_packet(request, plan, assembled, form: str) -> None:
    trail.record(
        action="prior_auth.packet",
        request=request,
        patient_id=plan.patient_id,
        target=plan,
        detail={
            "form": form,
            "complete": assembled.complete,
            "missing": [item.key for item in assembled.missing],
        },
    )


@login_required
def packet_page(request, patient_id: int, plan_id: int):
    """The packet as a page (with a print layout)."""
    plan, assembled = packet_of(request, patient_id, plan_id)
    audit_packet(request, plan, assembled, "page")
    return render(
        request,
        "billing/packet.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "packet": assembled,
            "auth": authorization_services.authorization_of(plan),
            "clinic_name": settings.CLINIC_NAME,
            "today": timezone.localdate(),
        },
    )


@login_required
def packet_pdf(request, patient_id: int, plan_id: int):
    plan, assembled = packet_of(request, patient_id, plan_id)
    try:
        content = packet_pdf_render.render(assembled, settings.CLINIC_NAME, timezone.localdate())
    except PdfUnavailable as error:
        return render(
            request,
            "billing/packet_pdf_unavailable.html",
            {"message": str(error), "patient": plan.patient, "plan": plan},
            status=503,
        )
    audit_packet(request, plan, assembled, "pdf")
    response = HttpResponse(content, content_type="application/pdf")
    name = f"spravato-prior-authorization-{plan.patient.mrn}-plan{plan.pk}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
