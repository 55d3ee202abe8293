"""Spravato REMS pages: the Patient Monitoring Form of a session (printable, PDF), the list
of forms due and overdue, patient enrolment and the clinic's setting certification."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.web.forms import add_service_errors, form_status
from ketaclinic.web.pdf import PdfUnavailable

from . import rems_facts, rems_pdf, rems_record, rems_register
from .models import RemsEnrollment, SettingCertification, TreatmentSession
from .rems_record import DEFINITION


def staff_only(request, permission: str) -> None:
    """The REMS lists are staff business: to a patient account they do not exist."""
    if request.user.role == Role.PATIENT:
        raise Http404
    require_permission(request, permission)


def access_rems_session(request, session_id: int, permission: str) -> TreatmentSession:
    """An esketamine session that needs a form, through its patient (404 / 403 as usual)."""
    session = (
        TreatmentSession.objects.filter(pk=session_id)
        .select_related("patient", "nurse", "prescriber_on_site")
        .first()
    )
    if session is None:
        refuse(request, None, permission, "no such treatment session")
        raise Http404("No such session.")
    access_patient(request, session.patient_id, permission)
    if session.route != "esketamine" or session.status not in rems_record.FORM_STATUSES:
        raise Http404("This session has no REMS Patient Monitoring Form.")
    return session


# ---------------------------------------------------------------- the form


YES_NO = [("", "—"), ("yes", "Yes"), ("no", "No")]


class AnswersForm(forms.Form):
    """Inputs for the fields a clinician answers; blank clears an earlier answer."""

    def __init__(self, *args, state: rems_record.RemsFormState, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in DEFINITION.fields:
            if not state.editable(item.code):
                continue
            self.fields[item.code] = input_for(item)
            value = state.entered.get(item.code)
            if value is not None:
                self.initial[item.code] = (
                    ("yes" if value else "no") if item.type == "yes_no" else value
                )

    def answers(self) -> dict[str, Any]:
        return {code: self.cleaned_data.get(code) for code in self.fields}


def input_for(item) -> forms.Field:
    label = item.label
    if item.type == "yes_no":
        return forms.TypedChoiceField(
            label=label,
            choices=YES_NO,
            required=False,
            coerce=lambda v: v == "yes",
            empty_value=None,
        )
    if item.type == "choice":
        choices = [("", "—")] + [(c, rems_record.shown(item, c)) for c in item.choices]
        return forms.ChoiceField(label=label, choices=choices, required=False)
    if item.type == "date":
        return forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if item.type == "integer":
        return forms.IntegerField(label=label, required=False, min_value=0, max_value=100_000)
    return forms.CharField(label=label, required=False, max_length=500)


def form_context(request, state: rems_record.RemsFormState, answers: AnswersForm) -> dict:
    sections = state.sections()
    for section in sections:
        for row in section["fields"]:
            code = row["field"].code
            row["input"] = answers[code] if code in answers.fields else None
    return {
        "state": state,
        "session": state.session,
        "patient": state.session.patient,
        "definition": DEFINITION,
        "sections": sections,
        "answers": answers,
        "may_file": can(request.user, "rems.file"),
    }


@login_required
def form_page(request, session_id: int):
    session = access_rems_session(request, session_id, "rems.view")
    state = rems_record.form_state(session)
    trail.record(
        action="rems.view",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"complete": state.complete, "submitted": state.submitted},
    )
    context = form_context(request, state, AnswersForm(state=state))
    return render(request, "charting/rems_form.html", context)


@login_required
@require_POST
def save(request, session_id: int):
    session = access_rems_session(request, session_id, "rems.file")
    state = rems_record.form_state(session)
    answers = AnswersForm(request.POST, state=state)
    if answers.is_valid():
        try:
            rems_record.rems_form_save(request=request, session=session, entered=answers.answers())
        except ValidationError as error:
            add_service_errors(answers, error)
        else:
            state = rems_record.form_state(session)
            if state.complete:
                messages.success(request, "Saved. The form is complete and can be submitted.")
            else:
                messages.success(request, f"Saved. Still missing: {len(state.missing_labels)}.")
            return redirect("rems:form", session_id=session.pk)
    audit_invalid_form(request, answers, "rems.form_save", session.patient_id)
    return render(
        request,
        "charting/rems_form.html",
        form_context(request, state, answers),
        status=form_status(request, answers),
    )


@login_required
@require_POST
def submit(request, session_id: int):
    session = access_rems_session(request, session_id, "rems.file")
    try:
        rems_record.rems_form_submit(request=request, session=session)
    except ValidationError as error:
        state = rems_record.form_state(session)
        context = form_context(request, state, AnswersForm(state=state))
        context["submit_errors"] = error.messages
        return render(request, "charting/rems_form.html", context, status=422)
    messages.success(request, "The REMS Patient Monitoring Form was submitted.")
    return redirect("rems:form", session_id=session.pk)


# ---------------------------------------------------------------- PDF


@login_required
def pdf(request, session_id: int):
    session = access_rems_session(request, session_id, "rems.view")
    state = rems_record.form_state(session)
    try:
        content = rems_pdf.render_pdf(state, settings.CLINIC_NAME)
    except PdfUnavailable as error:
        return render(
            request,
            "charting/rems_pdf_unavailable.html",
            {"message": str(error), "session": session},
            status=503,
        )
    trail.record(
        action="rems.pdf",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"complete": state.complete, "submitted": state.submitted},
    )
    response = HttpResponse(content, content_type="application/pdf")
    name = f"rems-monitoring-{session.patient.mrn}-{state.treatment_date:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- lists


@login_required
def index(request):
    staff_only(request, "rems.list")
    today = timezone.localdate()
    unfiled = rems_register.due_forms(today=today)
    trail.record(action="rems.list", request=request, detail={"page": "index"})
    return render(
        request,
        "charting/rems_index.html",
        {
            "overdue": [f for f in unfiled if f.overdue],
            "due": [f for f in unfiled if not f.overdue],
            "filed": rems_register.filed_forms(),
            "certificate": rems_facts.certificate_on(today),
            "unenrolled": rems_register.unenrolled_esketamine_patients(),
            "today": today,
            "may_view_forms": can(request.user, "rems.view"),
            "may_enrol": can(request.user, "rems.enrol"),
            "definition": DEFINITION,
        },
    )


@login_required
def overdue(request):
    staff_only(request, "rems.list")
    forms_ = rems_register.due_forms(overdue_only=True)
    trail.record(action="rems.list", request=request, detail={"page": "overdue"})
    return render(
        request,
        "charting/rems_overdue.html",
        {"overdue": forms_, "may_view_forms": can(request.user, "rems.view")},
    )


# ---------------------------------------------------------------- enrolment, certification


class EnrolmentForm(forms.Form):
    rems_patient_id = forms.CharField(label="REMS patient ID", max_length=40)
    enrolled_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def enrol(request, patient_id: int):
    patient = access_patient(request, patient_id, "rems.enrol")
    current = RemsEnrollment.objects.filter(patient=patient).select_related("recorded_by").first()
    initial = (
        {"rems_patient_id": current.rems_patient_id, "enrolled_on": current.enrolled_on}
        if current
        else {"enrolled_on": timezone.localdate()}
    )
    form = EnrolmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rems_register.rems_enrol(request=request, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"REMS enrolment recorded for {patient.full_name}.")
            return redirect("rems:enrol", patient_id=patient.pk)
    audit_invalid_form(request, form, "rems.enrol", patient.pk)
    return render(
        request,
        "charting/rems_enrol.html",
        {"form": form, "patient": patient, "current": current},
        status=form_status(request, form),
    )


class CertificationForm(forms.Form):
    certificate_id = forms.CharField(label="REMS certificate ID", max_length=40)
    certified_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave blank if the certificate states no end date.",
    )


@login_required
def certification(request):
    if request.user.role == Role.PATIENT:
        raise Http404
    if not (can(request.user, "rems.list") or can(request.user, "rems.certify")):
        require_permission(request, "rems.list")
    form = None
    if can(request.user, "rems.certify"):
        form = CertificationForm(request.POST or None)
    elif request.method == "POST":
        require_permission(request, "rems.certify")
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            rems_register.rems_certify(request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Setting certification recorded.")
            return redirect("rems:certification")
    if form is not None:
        audit_invalid_form(request, form, "rems.certify")
    today = timezone.localdate()
    return render(
        request,
        "charting/rems_certification.html",
        {
            "form": form,
            "certificates": SettingCertification.objects.select_related("recorded_by"),
            "current": rems_facts.certificate_on(today),
            "today": today,
        },
        status=form_status(request, form) if form is not None else 200,
    )
