"""Screening pages: record the answers against the patient's record, read the rules' result with
its sources, and have a prescriber sign it or strike it out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.intake.questionnaire_services import (
    reported_findings as intake_reported_findings,
)
from ketaclinic.patients.access import access_entry, access_patient_or_portal
from ketaclinic.patients.models import Patient
from ketaclinic.web.forms import add_service_errors

from . import blood_pressure, rules, services
from .forms import ReasonForm, ScreeningForm, SignForm
from .models import Screening

AREA_LABELS = {
    "pregnancy_status": "Pregnancy and breastfeeding",
    "demographics": "Age",
    "vital_signs": "Today's blood pressure",
    "diagnoses": "Conditions and history",
    "medications": "Medications",
    "allergies": "Allergies",
    "treatment_history": "Treatment history",
}


def tab_url(patient: Patient) -> str:
    return reverse("patients:chart_tab", kwargs={"patient_id": patient.pk, "tab": "screening-plan"})


def detail_url(screening: Screening) -> str:
    return reverse(
        "screening:detail",
        kwargs={"patient_id": screening.patient_id, "screening_id": screening.pk},
    )


def _form_read(request) -> str:
    """Audit section for a form page: its GET shows the record; its POST is a write."""
    return "screening-form" if request.method == "GET" else ""


def finding_groups(
    form: ScreeningForm, snapshot: services.RecordSnapshot, reported: dict | None = None
) -> list[dict]:
    """Reportable findings by record area, each with its sources; record-stated ones marked.

    ``reported``: the patient's intake answers by finding code (pending or confirmed), shown
    next to the finding; a pending one is never ticked for the clinician.
    """
    reported = reported or {}
    chosen = set(form["reported_findings"].value() or [])
    groups: dict[str, list[dict]] = {}
    for entry in rules.vocabulary_entries(include_computed=False):
        derived = snapshot.derived.get(entry.code)
        told = reported.get(entry.code)
        # A finding a clinician confirmed from the intake is ticked; a pending one never is.
        confirmed = told is not None and told.status == "confirmed"
        groups.setdefault(entry.record_area, []).append(
            {
                "code": entry.code,
                "finding": entry.finding,
                "severity": entry.severity.value,
                "severity_by_route": dict(entry.severity_by_route),
                "sources": entry.sources,
                "checked": derived is not None or entry.code in chosen or confirmed,
                "derived": derived,
                "reported": told,
            }
        )
    return [
        {"area": area, "label": AREA_LABELS.get(area, area), "findings": findings}
        for area, findings in groups.items()
    ]


def _initial(patient: Patient, snapshot: services.RecordSnapshot) -> dict:
    indications = [d.indication for d in patient.diagnoses.filter(status="active") if d.indication]
    initial = {
        "route": "iv",
        "indication": indications[0] if indications else "trd",
        "oral_antidepressant": "yes" if snapshot.oral_antidepressants else "",
    }
    # Measured BP comes from the record when one was charted today (the latest reading).
    reading = blood_pressure.blood_pressure_today(patient)
    if reading is not None:
        initial.update(
            systolic_mmhg=reading.systolic_mmhg,
            diastolic_mmhg=reading.diastolic_mmhg,
            bp_measured_at=timezone.localtime(reading.at).replace(tzinfo=None),
        )
    return initial


def _render_form(request, patient, form, snapshot, screening=None, status=200):
    reported = intake_reported_findings(patient)
    return render(
        request,
        "screening/form.html",
        {
            "patient": patient,
            "form": form,
            "screening": screening,
            "snapshot": snapshot,
            "groups": finding_groups(form, snapshot, reported),
            "reported": list(reported.values()),
            "computed": [e for e in rules.vocabulary_entries() if e.is_computed],
        },
        status=status,
    )


@login_required
def screening_new(request, patient_id: int):
    # The form shows what the record says (diagnoses, medications): a read, audited.
    patient = access_patient_or_portal(
        request, patient_id, "screening.record", section=_form_read(request)
    )
    if patient is None:
        return redirect("portal")
    snapshot = services.record_snapshot(patient)
    form = ScreeningForm(request.POST or None, initial=_initial(patient, snapshot))
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_create(
                request=request, patient=patient, answers=form.answers()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Screening evaluated and saved as a draft.")
            return redirect(detail_url(screening))
    status = 422 if request.method == "POST" else 200
    return _render_form(request, patient, form, snapshot, status=status)


@login_required
def screening_edit(request, patient_id: int, screening_id: int):
    patient = access_patient_or_portal(
        request, patient_id, "screening.record", section=_form_read(request)
    )
    if patient is None:
        return redirect("portal")
    screening = access_entry(request, patient, Screening, screening_id)
    if not screening.is_draft:
        messages.error(request, "A signed screening is not changed; screen again instead.")
        return redirect(detail_url(screening))
    snapshot = services.record_snapshot(patient)
    initial = {
        "route": screening.route,
        "indication": screening.indication,
        "reported_findings": screening.reported_findings,
        "systolic_mmhg": screening.systolic_mmhg,
        "diastolic_mmhg": screening.diastolic_mmhg,
        "bp_measured_at": screening.bp_measured_at,
        "oral_antidepressant": {True: "yes", False: "no"}.get(screening.oral_antidepressant, ""),
    }
    form = ScreeningForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.screening_update(request=request, screening=screening, answers=form.answers())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Screening evaluated again.")
            return redirect(detail_url(screening))
    status = 422 if request.method == "POST" else 200
    return _render_form(request, patient, form, snapshot, screening, status=status)


def _detail(request, patient, screening, sign_form=None, status=200):
    snapshot = services.record_snapshot(patient)
    return render(
        request,
        "screening/detail.html",
        {
            "patient": patient,
            "screening": screening,
            "findings": screening.findings_for_display(),
            "problems": services.usability_problems(screening, snapshot=snapshot)
            if screening.is_signed
            else [],
            "sign_form": sign_form or SignForm(initial=_suggested(screening)),
            "error_form": ReasonForm(),
            "decision_rule": rules.vocabulary().decision_rule,
        },
        status=status,
    )


def _suggested(screening: Screening) -> dict:
    return {
        "clinician_decision": {
            "eligible": "eligible",
            "needs_review": "eligible_with_reasoning",
            "ineligible": "not_eligible",
        }[screening.engine_decision]
    }


@login_required
def screening_detail(request, patient_id: int, screening_id: int):
    patient = access_patient_or_portal(request, patient_id, "screening.view", section="screening")
    if patient is None:
        return redirect("portal")
    screening = access_entry(request, patient, Screening, screening_id)
    return _detail(request, patient, screening)


@login_required
@require_POST
def screening_sign(request, patient_id: int, screening_id: int):
    patient = access_patient_or_portal(request, patient_id, "screening.sign")
    if patient is None:
        return redirect("portal")
    screening = access_entry(request, patient, Screening, screening_id)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            services.screening_sign(
                request=request,
                screening=screening,
                decision=form.cleaned_data["clinician_decision"],
                reasoning=form.cleaned_data["reasoning"],
            )
        except ValidationError as error:
            screening.refresh_from_db()
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Screening signed: {screening.get_clinician_decision_display().lower()}.",
            )
            return redirect(detail_url(screening))
    return _detail(request, patient, screening, sign_form=form, status=422)


@login_required
@require_POST
def screening_mark_in_error(request, patient_id: int, screening_id: int):
    patient = access_patient_or_portal(request, patient_id, "screening.sign")
    if patient is None:
        return redirect("portal")
    screening = access_entry(request, patient, Screening, screening_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": "Give a reason."})
        services.screening_mark_in_error(
            request=request, screening=screening, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(detail_url(screening))
    messages.success(request, "Screening marked as entered in error.")
    return redirect(tab_url(patient))
