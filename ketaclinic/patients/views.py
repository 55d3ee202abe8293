"""The patient list, the patient record's pages (chart, demographics, clinical entries).

The chart's tabs are in ``chart.py``; the patient's own portal home is in ``portal.py``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.web.forms import add_service_errors, form_status

from . import services
from .access import access_entry, access_patient, access_patient_or_portal
from .chart import TABS, chart_context
from .entries import KINDS
from .forms import ErrorReasonForm, PatientForm
from .models import Patient

PAGE_SIZE = 50


@login_required
def home(request):
    if request.user.role == Role.PATIENT:
        return redirect("portal")
    return redirect("patients:list")


@login_required
def patient_list(request):
    if request.user.role == Role.PATIENT:
        raise Http404
    require_permission(request, "patient.list")
    query = request.GET.get("q", "")
    if "\x00" in query:
        return search_refused(request, query)
    patients = Patient.objects.search(query).only(
        "id", "mrn", "given_name", "family_name", "preferred_name", "date_of_birth", "sex"
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    trail.record(
        action="patient.list", request=request, detail={"query": query, "page": page.number}
    )
    context = {"page": page, "query": query}
    if request.htmx and request.htmx.target == "patient-rows":
        return render(request, "patients/_rows.html", context)
    return render(request, "patients/list.html", context)


def search_refused(request, query: str) -> HttpResponse:
    """A search no database can run (a NUL character): 422 with the reason, audited."""
    trail.record(
        action="patient.list",
        request=request,
        outcome=Outcome.INVALID,
        detail={"errors": {"q": [services.NUL_MESSAGE]}},  # never the raw query: JSON refuses NUL
    )
    context = {
        "page": Paginator(Patient.objects.none(), PAGE_SIZE).get_page(1),
        "query": query.replace("\x00", ""),
        "query_error": f"Search: {services.NUL_MESSAGE}",
    }
    template = (
        "patients/_rows.html"
        if request.htmx and request.htmx.target == "patient-rows"
        else "patients/list.html"
    )
    return render(request, template, context, status=422)


@login_required
def patient_create(request):
    require_permission(request, "patient.create")
    form = PatientForm(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                request=request,
                patient=form.instance,
                confirm_duplicate=request.POST.get("confirm_duplicate") == "yes",
                confirmed_ids=shown_duplicates(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except services.DuplicatePatient as found:  # audited as refused by the service
            duplicate = found
        else:
            messages.success(request, f"{patient.full_name} added with MRN {patient.mrn}.")
            return redirect("patients:chart", patient_id=patient.pk)
    audit_invalid_form(request, form, "patient.create")
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "creating": True, "duplicate": duplicate},
        status=409 if duplicate else form_status(request, form),
    )


def shown_duplicates(request) -> set[int]:
    """The matching records the page showed before "Create anyway" (ids as posted back)."""
    return {int(v) for v in request.POST.getlist("duplicate_of") if v.isdigit() and len(v) < 19}


@login_required
def patient_edit(request, patient_id: int):
    patient = access_patient(request, patient_id, "patient.edit_demographics")
    form = PatientForm(request.POST or None, instance=Patient.objects.get(pk=patient.pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            changed = services.patient_update(request=request, patient=patient, changes=changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Saved: {', '.join(changed)}." if changed else "Nothing changed."
            )
            return redirect("patients:chart", patient_id=patient.pk)
    audit_invalid_form(request, form, "patient.change", patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "creating": False},
        status=form_status(request, form),
    )


@login_required
def patient_chart(request, patient_id: int, tab: str = "summary"):
    if tab not in TABS:
        raise Http404
    patient = access_patient_or_portal(request, patient_id, TABS[tab][1], section=tab)
    if patient is None:
        return redirect("portal")
    context = chart_context(request, patient, tab)
    if request.htmx and request.htmx.target == "tab-panel":
        return render(request, f"patients/tabs/{tab}.html", context)
    return render(request, "patients/chart.html", context)


@login_required
def entry_add(request, patient_id: int, kind: str):
    entry_kind = entry_kind_or_404(kind)
    patient = access_patient(request, patient_id, entry_kind.permission)
    instance = entry_kind.model(patient=patient)
    form = entry_kind.form(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_record(request=request, entry=form.instance, kind=entry_kind.audit_name)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Recorded {entry_kind.label}: {form.instance}.")
            return back_to_tab(request, patient, entry_kind.tab)
    audit_invalid_form(request, form, f"{entry_kind.audit_name}.create", patient.pk)
    return render(
        request,
        "patients/entry_form.html",
        {"form": form, "patient": patient, "kind": entry_kind},
        status=form_status(request, form),
    )


@login_required
@require_POST
def entry_mark_in_error(request, patient_id: int, kind: str, entry_id: int):
    entry_kind = entry_kind_or_404(kind)
    patient = access_patient(request, patient_id, entry_kind.permission)
    entry = access_entry(request, patient, entry_kind.model, entry_id)
    form = ErrorReasonForm(request.POST)
    if entry.in_error:
        messages.info(request, f"Already marked as entered in error: {entry}.")
        return back_to_tab(request, patient, entry_kind.tab)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        services.entry_mark_in_error(
            request=request,
            entry=entry,
            kind=entry_kind.audit_name,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError:
        messages.error(request, "Give a reason to mark the entry as entered in error.")
    else:
        messages.success(request, f"Marked as entered in error: {entry}.")
    return back_to_tab(request, patient, entry_kind.tab)


def back_to_tab(request, patient: Patient, tab: str) -> HttpResponse:
    url = reverse("patients:chart_tab", kwargs={"patient_id": patient.pk, "tab": tab})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


def entry_kind_or_404(slug: str):
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404 from None
