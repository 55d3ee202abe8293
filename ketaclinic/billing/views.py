"""Billing pages: coverage, prior authorization, the Spravato prior-authorization packet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient

from . import coverage_services
from .forms import CoverageForm


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
