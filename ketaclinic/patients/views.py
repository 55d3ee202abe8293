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
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.tabs import sessions_tab
from ketaclinic.outcomes.tabs import outcomes_tab, portal_questionnaires_due
from ketaclinic.plans.tabs import screening_plan_tab

from . import services
from .access import access_entry, access_patient
from .entries import KINDS
from .forms import ErrorReasonForm, PatientForm
from .models import Patient

PAGE_SIZE = 50

# Chart tabs and the permission each needs; the first is the default.
TABS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "patient.view"),
    "history": ("History", "patient.view_clinical"),
    "medications": ("Medications & allergies", "patient.view_clinical"),
    "weights": ("Weights", "patient.view_clinical"),
    "care-team": ("Care team", "patient.view"),
    "screening-plan": ("Screening & plan", "plan.view"),
    "outcomes": ("Outcomes", "outcomes.view"),
    "sessions": ("Sessions", "session.view"),
    "changes": ("Record changes", "patient.view_changes"),
}


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
    if request.user.role == Role.PATIENT:
        # Patients read their record in the portal; another patient's id is simply not found.
        access_patient(request, patient_id)
        return redirect("portal")
    patient = access_patient(request, patient_id, TABS[tab][1], section=tab)
    context = chart_context(request, patient, tab)
    if request.htmx and request.htmx.target == "tab-panel":
        return render(request, f"patients/tabs/{tab}.html", context)
    return render(request, "patients/chart.html", context)


def chart_context(request, patient: Patient, tab: str) -> dict:
    visible_tabs = [
        (slug, label) for slug, (label, permission) in TABS.items() if can(request.user, permission)
    ]
    context = {"patient": patient, "tab": tab, "tabs": visible_tabs}
    context.update(TAB_LOADERS[tab](request, patient))
    return context


def summary_tab(request, patient: Patient) -> dict:
    context = {
        "care_team": patient.care_team.valid().select_related("user"),
        "upcoming": patient.appointments.upcoming().select_related("type", "chair__room")[:8],
    }
    if can(request.user, "patient.view_clinical"):
        context.update(
            weight=patient.current_weight(),
            diagnoses=patient.diagnoses.valid().filter(status="active"),
            medications=patient.medications.valid().filter(status="active"),
            allergies=patient.allergies.valid(),
            adequate_trials=patient.antidepressant_trials.valid().filter(adequate=True).count(),
        )
    return context


def history_tab(request, patient: Patient) -> dict:
    return {
        "diagnoses": patient.diagnoses.select_related("recorded_by"),
        "trials": patient.antidepressant_trials.select_related("recorded_by"),
        "treatments": patient.treatments.select_related("recorded_by"),
        "adequate_trials": patient.antidepressant_trials.valid().filter(adequate=True).count(),
    }


def medications_tab(request, patient: Patient) -> dict:
    return {
        "medications": patient.medications.select_related("recorded_by"),
        "allergies": patient.allergies.select_related("recorded_by"),
    }


def weights_tab(request, patient: Patient) -> dict:
    return {
        "weights": patient.weights.select_related("recorded_by"),
        "weight": patient.current_weight(),
        "add_form": KINDS["weights"].form(),
    }


def care_team_tab(request, patient: Patient) -> dict:
    return {"care_team": patient.care_team.select_related("user", "recorded_by")}


def changes_tab(request, patient: Patient) -> dict:
    events = AuditEvent.objects.for_patient(patient.pk).exclude(action="patient.view")
    return {"events": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))}


TAB_LOADERS = {
    "summary": summary_tab,
    "history": history_tab,
    "medications": medications_tab,
    "weights": weights_tab,
    "care-team": care_team_tab,
    "screening-plan": screening_plan_tab,
    "outcomes": outcomes_tab,
    "sessions": sessions_tab,
    "changes": changes_tab,
}


def register_tab(
    slug: str, label: str, permission: str, loader, *, before: str = "changes"
) -> None:
    """A later app adds a chart tab from its AppConfig.ready() (this app may not import it).

    The tab's template is ``patients/tabs/<slug>.html``; registering twice changes nothing.
    """
    TAB_LOADERS[slug] = loader
    if slug in TABS:
        return
    tabs = list(TABS.items())
    at = next((i for i, (name, _) in enumerate(tabs) if name == before), len(tabs))
    tabs.insert(at, (slug, (label, permission)))
    TABS.clear()
    TABS.update(tabs)


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


def form_status(request, form) -> int:
    """422 for a refused form; a form may name its own status (429 while throttled)."""
    if request.method != "POST" or not form.errors:
        return 200
    return getattr(form, "status_code", None) or 422


def audit_invalid_form(request, form, action: str, patient_id: int | None = None) -> None:
    """A rejected form leaves an ``invalid`` audit row, as a rejected API call does."""
    if request.method == "POST" and form.errors:
        trail.record(
            action=action,
            request=request,
            patient_id=patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": form.errors.get_json_data()},
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


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's validation errors on the form, per field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def entry_kind_or_404(slug: str):
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404 from None


@login_required
def portal(request):
    """The patient's own record, read-only, in plain words."""
    patient = getattr(request.user, "patient_record", None)
    if request.user.role != Role.PATIENT or patient is None:
        raise Http404
    patient = access_patient(request, patient.pk, "patient.view_clinical", section="portal")
    context = {
        "patient": patient,
        "upcoming": patient.appointments.upcoming().select_related("type")[:8],
        "weight": patient.current_weight(),
        "diagnoses": patient.diagnoses.valid().filter(status="active"),
        "medications": patient.medications.valid().filter(status="active"),
        "allergies": patient.allergies.valid(),
        "care_team": patient.care_team.valid().select_related("user"),
        "questionnaires_due": portal_questionnaires_due(patient),
    }
    return render(request, "portal/home.html", context)
