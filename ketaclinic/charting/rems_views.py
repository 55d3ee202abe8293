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

from . import rems_record
from .models import RemsEnrollment, SettingCertification, TreatmentSession
from .rems_record import DEFINITION

PDF_PACKAGE = "fpdf2>=2.8,<3"


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


class PdfUnavailable(RuntimeError):
    """The optional PDF package is not installed."""


def load_fpdf():
    """fpdf2's FPDF class, imported only when a PDF is asked for."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise PdfUnavailable(
            f"PDF download needs the Python package {PDF_PACKAGE!r}, which is not installed "
            "on this server. Use Print on the form page instead (it has a print layout)."
        ) from None
    return FPDF


# The PDF's core fonts are Latin-1: write the few typographic characters the form uses.
PLAIN = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "≥": ">=", "≤": "<="}
)


def latin1(text: Any) -> str:
    return str(text).translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


def render_pdf(state: rems_record.RemsFormState, clinic_name: str) -> bytes:
    """The form as a one- or two-page PDF (text uncompressed: small and searchable)."""
    fpdf = load_fpdf()
    pdf = fpdf(format="Letter", unit="mm")
    pdf.set_compression(False)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: float = 10, style: str = "", leading: float = 5.5) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(width, leading, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")

    line("SPRAVATO REMS Patient Monitoring Form", size=15, style="B", leading=8)
    line(f"{DEFINITION.source}", size=8)
    patient = state.session.patient
    line(
        f"{patient.full_name} (MRN {patient.mrn}) - treatment {state.treatment_date:%Y-%m-%d} - "
        f"due {state.due_date:%Y-%m-%d}",
        size=10,
        style="B",
    )
    if state.submitted:
        row = state.row
        status = (
            f"Submitted {timezone.localtime(row.submitted_at):%Y-%m-%d %H:%M} by "
            f"{row.submitted_by.display_name}"
        )
    elif state.complete:
        status = "Complete, not yet submitted"
    else:
        status = "INCOMPLETE - missing: " + ", ".join(state.missing_labels)
    line(status, size=10, style="B")
    pdf.ln(2)
    label_width = width * 0.45
    value_width = width - label_width

    def height(text: str, w: float, h: float, size: float, style: str = "") -> float:
        pdf.set_font("Helvetica", style=style, size=size)
        return pdf.multi_cell(w, h, latin1(text), dry_run=True, output="HEIGHT") if text else 0

    for section in state.sections():
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.set_fill_color(230, 235, 241)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(width, 7, latin1(section["label"]), fill=True, new_x="LMARGIN", new_y="NEXT")
        for row in section["fields"]:
            if not row["required"] and not row["shown"]:
                continue
            value = row["shown"] or ("MISSING" if row["missing"] else "")
            needed = max(
                height(row["field"].label, label_width, 5, 9),
                height(value, value_width, 5, 10, "B") + height(row["basis"], value_width, 3.5, 7),
            )
            if pdf.will_page_break(needed + 1):
                pdf.add_page()
            top = pdf.get_y()
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(label_width, 5, latin1(row["field"].label), align="L")
            pdf.set_xy(pdf.l_margin + label_width, top)
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.multi_cell(value_width, 5, latin1(value), align="L")
            if row["basis"]:
                pdf.set_x(pdf.l_margin + label_width)
                pdf.set_font("Helvetica", style="I", size=7)
                pdf.multi_cell(value_width, 3.5, latin1(row["basis"]), align="L")
            pdf.set_xy(pdf.l_margin, top + needed + 1)
        pdf.ln(1)
    pdf.ln(3)
    line(
        f"Generated by ketaclinic for {clinic_name} on {timezone.localdate():%Y-%m-%d}. "
        "Values come from the session record unless marked as entered on the form.",
        size=8,
    )
    return bytes(pdf.output())


@login_required
def pdf(request, session_id: int):
    session = access_rems_session(request, session_id, "rems.view")
    state = rems_record.form_state(session)
    try:
        content = render_pdf(state, settings.CLINIC_NAME)
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
    unfiled = rems_record.due_forms(today=today)
    trail.record(action="rems.list", request=request, detail={"page": "index"})
    return render(
        request,
        "charting/rems_index.html",
        {
            "overdue": [f for f in unfiled if f.overdue],
            "due": [f for f in unfiled if not f.overdue],
            "filed": rems_record.filed_forms(),
            "certificate": rems_record.certificate_on(today),
            "unenrolled": rems_record.unenrolled_esketamine_patients(),
            "today": today,
            "may_view_forms": can(request.user, "rems.view"),
            "may_enrol": can(request.user, "rems.enrol"),
            "definition": DEFINITION,
        },
    )


@login_required
def overdue(request):
    staff_only(request, "rems.list")
    forms_ = rems_record.due_forms(overdue_only=True)
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
            rems_record.rems_enrol(request=request, patient=patient, **form.cleaned_data)
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
            rems_record.rems_certify(request=request, **form.cleaned_data)
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
            "current": rems_record.certificate_on(today),
            "today": today,
        },
        status=form_status(request, form) if form is not None else 200,
    )
