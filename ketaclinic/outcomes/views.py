"""Staff pages for measurement-based care: worklist, safety follow-up, paper/phone entry,
the chart's Outcomes tab (trajectory), questionnaire links and clinic-loaded instruments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.web.forms import add_service_errors, form_status

from . import services, worklist_sections
from .definitions import UnknownInstrumentError
from .forms import DefinitionLoadForm, ErrorForm, ResolveForm, StaffEntryForm
from .models import (
    InstrumentDefinition,
    MeasurementTask,
    Response,
    ResponseStatus,
    SafetyTask,
)

WORKLIST_PAGE = 50


def chart_url(patient_id: int) -> str:
    return reverse("patients:chart_tab", kwargs={"patient_id": patient_id, "tab": "outcomes"})


# --- worklist --------------------------------------------------------------------------


@login_required
def worklist(request):
    require_permission(request, "worklist.view")
    services.tasks_sync_missing()
    today = timezone.localdate()
    scope = request.GET.get("who", "all")
    overdue_only = request.GET.get("overdue") == "1"
    safety = list(services.open_safety_tasks(request.user))
    tasks = MeasurementTask.objects.due_by(today).select_related("patient", "instrument")
    if scope == "mine":
        tasks = tasks.filter(
            patient__care_team__user=request.user,
            patient__care_team__status="active",
        )
    if overdue_only:
        tasks = tasks.filter(due_on__lt=today)
    page = Paginator(tasks.order_by("due_on", "patient_id", "id"), WORKLIST_PAGE).get_page(
        request.GET.get("page")
    )
    trail.record(
        action="worklist.view",
        request=request,
        detail={"who": scope, "overdue": overdue_only, "page": page.number},
    )
    context = {
        "today": today,
        "safety_tasks": safety,
        "page": page,
        "scope": scope,
        "overdue_only": overdue_only,
        "extra_sections": worklist_sections.sections_for(request),
    }
    if request.htmx and request.htmx.target == "worklist-rows":
        return render(request, "outcomes/_worklist_rows.html", context)
    return render(request, "outcomes/worklist.html", context)


# --- safety tasks ----------------------------------------------------------------------


def _safety_task(request, task_id: int) -> SafetyTask:
    task = (
        SafetyTask.objects.select_related("patient", "response", "assigned_to", "resolved_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        refuse(request, None, "safety_task.view", "no such safety task")
        raise Http404
    # Through the patient: 404 for a patient, 403 for a role without clinical access.
    access_patient(request, task.patient_id, "worklist.view", section="safety-task")
    return task


@login_required
def safety_task(request, task_id: int):
    task = _safety_task(request, task_id)
    form = ResolveForm(request.POST or None)
    if request.method == "POST":
        require_permission(request, "safety_task.resolve")
        if form.is_valid():
            try:
                services.safety_task_resolve(
                    request=request,
                    task=task,
                    action=form.cleaned_data["follow_up_action"],
                    note=form.cleaned_data["follow_up_note"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Follow-up documented for {task.patient.full_name}.")
                return redirect("outcomes:worklist")
        audit_invalid_form(request, form, "safety_task.resolve", task.patient_id)
    response = task.response
    instrument = response.instrument.instrument
    answers = [
        (item, response.answers[item.number - 1] if item.number <= len(response.answers) else None)
        for item in instrument.items
    ]
    return render(
        request,
        "outcomes/safety_task.html",
        {
            "task": task,
            "form": form,
            "answers": [
                (item, value, item.option(value).text if value is not None else "—")
                for item, value in answers
            ],
            "flag_items": {rule.item for rule in instrument.flags},
            "patient": task.patient,
            "phone": task.patient.phone,
            "emergency": (
                task.patient.emergency_contact_name,
                task.patient.emergency_contact_phone,
            ),
        },
        status=form_status(request, form),
    )


# --- staff entry -----------------------------------------------------------------------


@login_required
def enter(request, patient_id: int):
    patient = access_patient(request, patient_id, "outcomes.enter")
    code = request.GET.get("instrument") or request.POST.get("instrument") or ""
    instruments = list(InstrumentDefinition.objects.usable())
    if not code:
        return render(
            request, "outcomes/enter_choose.html", {"patient": patient, "instruments": instruments}
        )
    try:
        definition = services.definition(code)
    except UnknownInstrumentError:
        raise Http404 from None
    form = StaffEntryForm(request.POST or None, definition=definition)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_save(
                request=request,
                patient=patient,
                definition=definition,
                answers=form.answers(),
                channel=form.cleaned_data["channel"],
                submitted_at=form.submitted_at(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if response.is_complete:
                text = f"{definition.name}: total {response.total}"
                if response.flags:
                    messages.error(
                        request,
                        f"{text}. Suicidal-ideation answer: an urgent follow-up task is on "
                        "the worklist for the prescriber.",
                    )
                else:
                    messages.success(
                        request, f"{text} recorded ({response.get_channel_display()})."
                    )
            else:
                messages.info(
                    request,
                    f"{definition.name} saved as in progress ({response.answered_count} of "
                    f"{len(definition.instrument.items)} answered); it is not scored until complete.",
                )
            return redirect(chart_url(patient.pk))
    audit_invalid_form(request, form, "outcome.response", patient.pk)
    return render(
        request,
        "outcomes/enter.html",
        {"patient": patient, "definition": definition, "form": form},
        status=form_status(request, form),
    )


@login_required
@require_POST
def response_error(request, patient_id: int, response_id: int):
    patient = access_patient(request, patient_id, "outcomes.enter")
    response = Response.objects.filter(pk=response_id, patient=patient).first()
    if response is None:
        raise Http404
    form = ErrorForm(request.POST)
    if response.status == ResponseStatus.ENTERED_IN_ERROR:
        messages.info(request, "Already marked as entered in error.")
    elif not form.is_valid():
        audit_invalid_form(request, form, "outcome.response_error", patient.pk)
        messages.error(request, "Give a reason to mark the response as entered in error.")
    else:
        services.response_mark_in_error(
            request=request, response=response, reason=form.cleaned_data["reason"]
        )
        messages.success(request, "Marked as entered in error.")
    return redirect(chart_url(patient.pk))


@login_required
@require_POST
def link_create(request, patient_id: int):
    patient = access_patient(request, patient_id, "outcomes.send_link")
    token = services.link_create(request=request, patient=patient)
    url = request.build_absolute_uri(reverse("questionnaires:link", kwargs={"token": token}))
    return render(
        request,
        "outcomes/link_created.html",
        {"patient": patient, "url": url, "hours": services.LINK_VALID_HOURS},
    )


# --- clinic-loaded instruments ---------------------------------------------------------


@login_required
def instruments(request):
    require_permission(request, "instrument.manage")
    form = DefinitionLoadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = services.parse_definition_text(form.cleaned_data["definition"])
            loaded = services.definition_load(request=request, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Loaded {loaded.name}, version {loaded.version}.")
            return redirect("outcomes:instruments")
    audit_invalid_form(request, form, "instrument.load")
    services.usable_definitions()
    counts = dict(
        Response.objects.valid()
        .order_by()
        .values("instrument_id")
        .annotate(n=Count("id"))
        .values_list("instrument_id", "n")
    )
    rows = [
        (d, counts.get(d.code, 0)) for d in InstrumentDefinition.objects.select_related("loaded_by")
    ]
    return render(
        request,
        "outcomes/instruments.html",
        {"form": form, "rows": rows, "can_manage": can(request.user, "instrument.manage")},
        status=form_status(request, form),
    )


@login_required
@require_POST
def instrument_status(request, code: str):
    require_permission(request, "instrument.manage")
    definition = InstrumentDefinition.objects.filter(code=code).first()
    if definition is None:
        raise Http404
    status = request.POST.get("status", "")
    try:
        services.definition_set_status(request=request, definition=definition, status=status)
    except ValidationError:
        messages.error(request, "Unknown status.")
    else:
        messages.success(request, f"{definition.name}: {definition.get_status_display()}.")
    return redirect("outcomes:instruments")
