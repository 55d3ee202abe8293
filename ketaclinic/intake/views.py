"""Pages of the front door: the public request form and education library, and the staff
triage queue."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.patients.services import DuplicatePatient

from . import learn, services, vocabulary
from .forms import ConvertForm, RedFlagForm, RequestForm, TransitionForm
from .models import OPEN_STATUSES, TRANSITIONS, ConsultationRequest, Status

MAX_ROW_ID = 2**63 - 1
QUEUE_PAGE = 100
# Where the thank-you page finds what to show: the reference and whether to show crisis
# resources at once. Kept in the session, so reloading the page shows the same answer.
SESSION_KEY = "intake.submitted"


# --- Public ---------------------------------------------------------------------------------


def request_form(request):
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submitted = services.request_submit(
                request=request,
                values=form.service_values(),
                honeypot=form.cleaned_data.get("website", "").strip(),
            )
        except services.RateLimited as limited:
            form.add_error(None, limited.message)
            return render(request, "intake/request.html", {"form": form, **crisis()}, status=429)
        except ValidationError as problem:
            for field, errors in problem.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            urgent = bool(form.cleaned_data.get("suicidal_thoughts"))
            request.session[SESSION_KEY] = {"reference": submitted.reference, "urgent": urgent}
            return redirect("intake:request_thanks")
    return render(
        request,
        "intake/request.html",
        {"form": form, **crisis()},
        status=422 if form.errors else 200,
    )


def crisis() -> dict:
    return {
        "crisis_line": settings.CRISIS_LINE,
        "crisis_line_name": settings.CRISIS_LINE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
    }


def request_thanks(request):
    submitted = request.session.get(SESSION_KEY)
    if not submitted:
        return redirect("intake:request")
    return render(
        request,
        "intake/request_thanks.html",
        {
            "reference": submitted["reference"],
            "urgent": submitted["urgent"],
            **crisis(),
        },
    )


def learn_index(request):
    return render(request, "intake/learn_index.html", {"pages": learn.pages()})


def learn_page(request, slug: str):
    page = learn.pages_by_slug().get(slug)
    if page is None:
        raise Http404
    return render(request, "intake/learn_page.html", {"page": page})


# --- Staff: triage --------------------------------------------------------------------------


def access_request(request, request_id: int) -> ConsultationRequest:
    require_permission(request, "consultation_request.triage")
    if request_id > MAX_ROW_ID:
        raise Http404
    return get_object_or_404(
        ConsultationRequest.objects.select_related("patient", "red_flag_by"), pk=request_id
    )


@login_required
def queue(request):
    require_permission(request, "consultation_request.triage")
    show = request.GET.get("show", "open")
    rows = ConsultationRequest.objects.triage_order()
    rows = rows.open() if show != "closed" else rows.exclude(status__in=OPEN_STATUSES)
    rows = list(rows[:QUEUE_PAGE])
    for row in rows:
        row.condition_labels = [vocabulary.label_of(code) for code in row.conditions]
    trail.record(
        action="consultation_request.list",
        request=request,
        detail={"status": show, "count": len(rows)},
    )
    return render(
        request,
        "intake/queue.html",
        {"rows": rows, "show": show},
    )


@login_required
def request_detail(request, request_id: int):
    consultation = access_request(request, request_id)
    trail.record(
        action="consultation_request.view",
        request=request,
        target=consultation,
        patient_id=consultation.patient_id,
    )
    return render_detail(request, consultation)


def render_detail(request, consultation, *, status=200, **forms):
    targets = [Status(s) for s in Status.values if s in TRANSITIONS[consultation.status]]
    context = {
        "consultation": consultation,
        "conditions": [vocabulary.label_of(code) for code in consultation.conditions],
        "events": consultation.events.select_related("by"),
        "targets": [t for t in targets if t != Status.CONVERTED],
        "can_convert": Status.CONVERTED in targets and can(request.user, "patient.create"),
        "can_red_flag": can(request.user, "consultation_request.red_flag"),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "red_flag_form": forms.get("red_flag_form") or RedFlagForm(),
        "convert_form": forms.get("convert_form") or ConvertForm(),
        "duplicates": forms.get("duplicates", []),
        "book_url": (
            reverse("scheduling:book", args=[consultation.patient_id]) + "?type=consultation"
            if consultation.patient_id
            else ""
        ),
    }
    return render(request, "intake/request_detail.html", context, status=status)


@login_required
@require_POST
def transition(request, request_id: int):
    consultation = access_request(request, request_id)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.request_transition(
                request=request,
                consultation=consultation,
                to_status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except services.TriageConflict as conflict:
            form.add_error("status", str(conflict))
            return render_detail(request, consultation, status=409, transition_form=form)
        except ValidationError as problem:
            for field, errors in problem.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Triage updated.")
            return redirect("intake:request_detail", request_id=consultation.pk)
    return render_detail(request, consultation, status=422, transition_form=form)


@login_required
@require_POST
def red_flag(request, request_id: int):
    consultation = access_request(request, request_id)
    require_permission(request, "consultation_request.red_flag")
    form = RedFlagForm(request.POST)
    if form.is_valid():
        services.request_red_flag(
            request=request, consultation=consultation, note=form.cleaned_data["note"]
        )
        messages.success(request, "Red flag noted.")
        return redirect("intake:request_detail", request_id=consultation.pk)
    return render_detail(request, consultation, status=422, red_flag_form=form)


@login_required
@require_POST
def convert(request, request_id: int):
    consultation = access_request(request, request_id)
    require_permission(request, "patient.create")
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return render_detail(request, consultation, status=422, convert_form=form)
    confirmed = [int(v) for v in request.POST.getlist("confirmed_id") if v.isdigit()]
    try:
        patient = services.request_convert(
            request=request,
            consultation=consultation,
            sex=form.cleaned_data["sex"],
            confirm_duplicate=form.cleaned_data["confirm_duplicate"],
            confirmed_ids=confirmed if form.cleaned_data["confirm_duplicate"] else None,
        )
    except DuplicatePatient as found:
        again = ConvertForm(initial={"sex": form.cleaned_data["sex"], "confirm_duplicate": True})
        return render_detail(
            request, consultation, status=409, convert_form=again, duplicates=found.candidates
        )
    except services.TriageConflict as conflict:
        form.add_error(None, str(conflict))
        return render_detail(request, consultation, status=409, convert_form=form)
    messages.success(
        request, f"{patient.full_name} is now patient {patient.mrn}. Book the consultation next."
    )
    return redirect("intake:request_detail", request_id=consultation.pk)
