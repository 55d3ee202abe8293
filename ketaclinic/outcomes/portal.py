"""The patient's questionnaire pages: what is due, answering on a phone, history in plain words.

A patient gets here signed in to the portal, or through a single-use, expiring link from a
reminder. Redeeming a link lets that browser answer that patient's questionnaires for
``services.LINK_SESSION_MINUTES``; it shows nothing else of the record. Half-answered
questionnaires are saved as in progress and never scored. When an answer raises a flag
(suicidal ideation), the confirmation page shows crisis resources at once, and the
prescriber's urgent task was created in the same transaction as the answers.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient
from ketaclinic.patients.models import Patient

from . import schedule, services
from .definitions import UnknownInstrumentError
from .forms import AnswersForm
from .models import Channel, Response, ResponseStatus

SESSION_KEY = "questionnaire_patient"


def crisis_resources() -> dict[str, str]:
    """Crisis numbers shown to patients; a clinic outside the US sets its own."""
    return {
        "crisis_line": settings.CRISIS_LINE,
        "crisis_line_name": settings.CRISIS_LINE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
    }


class NeedsLogin(Exception):
    pass


def portal_patient(request) -> tuple[Patient, bool]:
    """The patient these pages act for, and whether it came from a link (else 404/login)."""
    user = request.user
    if user.is_authenticated:
        record = getattr(user, "patient_record", None)
        if user.role != Role.PATIENT or record is None:
            raise Http404
        return access_patient(request, record.pk, "outcomes.view", section="questionnaires"), False
    scope = request.session.get(SESSION_KEY)
    if scope and scope.get("until", 0) > time.time():
        patient = Patient.objects.filter(pk=scope.get("patient")).first()
        if patient is not None:
            trail.record(
                action="patient.view",
                request=request,
                patient=patient,
                detail={"section": "questionnaires (link)"},
                actor_username=f"patient link ({patient.mrn})",
            )
            return patient, True
    raise NeedsLogin


def _guarded(view):
    def wrapper(request, *args, **kwargs):
        try:
            patient, via_link = portal_patient(request)
        except NeedsLogin:
            return redirect_to_login(request.get_full_path())
        return view(request, patient, via_link, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return never_cache(wrapper)


def _indication(patient: Patient) -> str | None:
    plan = services.current_plan(patient)
    if plan is not None:
        return plan.indication
    for diagnosis in patient.diagnoses.valid().filter(status="active"):
        if diagnosis.indication:
            return diagnosis.indication
    return None


def _available(patient: Patient) -> list:
    """Patient-rated instruments for the patient's indication that the clinic has."""
    usable = services.usable_definitions()
    codes = schedule.shipped_policy().instruments_for(_indication(patient))
    return [usable[c] for c in codes if c in usable and usable[c].rater == "patient"]


def plain_history(response: Response, baseline: Response | None) -> str:
    """One sentence a patient can read about one completed questionnaire."""
    instrument = response.instrument.instrument
    band = instrument.band_for(response.total) if response.total is not None else None
    words = f"Your score was {response.total} out of {instrument.total_max}"
    if band is not None:
        words += f", in the “{band.label.lower()}” range"
    words += "."
    if baseline is not None and baseline.pk != response.pk and baseline.total is not None:
        difference = response.total - baseline.total
        when = baseline.submitted_at.strftime("%-d %B")
        points = "point" if abs(difference) == 1 else "points"
        if difference < 0:
            words += f" That is {-difference} {points} lower than on {when} ({baseline.total})."
        elif difference > 0:
            words += f" That is {difference} {points} higher than on {when} ({baseline.total})."
        else:
            words += f" The same as on {when}."
    return words


@_guarded
def home(request, patient: Patient, via_link: bool):
    """What is due, what is half done, and what the patient answered before."""
    plan = services.current_plan(patient)
    if plan is not None and not plan.measurement_tasks.exists():
        services.tasks_sync(plan)
    due = list(services.due_tasks(patient.pk))
    due_codes: dict[str, object] = {}
    for task in due:
        if task.instrument.rater == "patient":
            due_codes.setdefault(task.instrument_id, task)
    in_progress = {
        r.instrument_id: r
        for r in patient.outcome_responses.filter(status=ResponseStatus.IN_PROGRESS)
        .select_related("instrument")
        .order_by("started_at")
    }
    completed = list(
        patient.outcome_responses.completed()
        .select_related("instrument")
        .order_by("submitted_at", "id")
    )
    first_by_code: dict[str, Response] = {}
    history = []
    for response in completed:
        first = first_by_code.setdefault(response.instrument_id, response)
        history.append((response, plain_history(response, first)))
    history.reverse()
    others = [d for d in _available(patient) if d.code not in due_codes]
    listed = set(due_codes) | {d.code for d in others}
    unfinished = [r for code, r in in_progress.items() if code not in listed]
    return render(
        request,
        "outcomes/portal/home.html",
        {
            "patient": patient,
            "via_link": via_link,
            "due": list(due_codes.values()),
            "in_progress": in_progress,
            "others": others,
            "unfinished": unfinished,
            "history": history[:30],
            **crisis_resources(),
        },
    )


@_guarded
def answer(request, patient: Patient, via_link: bool, code: str):
    """One questionnaire on one page; "Save for later" keeps gaps as in progress."""
    try:
        definition = services.definition(code)
    except UnknownInstrumentError:
        raise Http404 from None
    if definition.rater != "patient":
        raise Http404
    current = (
        patient.outcome_responses.filter(status=ResponseStatus.IN_PROGRESS, instrument=definition)
        .order_by("-started_at")
        .first()
    )
    form = AnswersForm(
        request.POST or None,
        definition=definition,
        initial_answers=current.answers if current else None,
    )
    missing: list[int] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        response = services.response_save(
            request=request,
            patient=patient,
            definition=definition,
            answers=form.answers(),
            channel=Channel.PORTAL,
            response=current,
        )
        if response.is_complete:
            return redirect("questionnaires:done", response_id=response.pk)
        if request.POST.get("action") == "later":
            return redirect("questionnaires:home")
        missing = [n for n, a in enumerate(response.answers, start=1) if a is None]
        status = 422
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "outcomes/portal/answer.html",
        {
            "patient": patient,
            "via_link": via_link,
            "definition": definition,
            "instrument": definition.instrument,
            "form": form,
            "missing": missing,
            "in_progress": current,
            **crisis_resources(),
        },
        status=status,
    )


@_guarded
def done(request, patient: Patient, via_link: bool, response_id: int):
    """The confirmation: the score in plain words, and crisis resources when flagged."""
    response = (
        patient.outcome_responses.completed()
        .select_related("instrument")
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        raise Http404
    first = (
        patient.outcome_responses.completed()
        .filter(instrument_id=response.instrument_id)
        .order_by("submitted_at", "id")
        .first()
    )
    remaining = [
        t
        for t in services.due_tasks(patient.pk)
        if t.instrument.rater == "patient" and t.instrument_id != response.instrument_id
    ]
    return render(
        request,
        "outcomes/portal/done.html",
        {
            "patient": patient,
            "via_link": via_link,
            "response": response,
            "summary": plain_history(response, first),
            "flagged": bool(response.flags),
            "remaining": remaining,
            **crisis_resources(),
        },
    )


@never_cache
def link(request, token: str):
    """A reminder's single-use link: opens the questionnaires once, then never again."""
    patient = services.link_redeem(request=request, token=token)
    if patient is None:
        return render(
            request,
            "outcomes/portal/link_refused.html",
            {"login_url": reverse("accounts:login"), **crisis_resources()},
            status=410,
        )
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "patient": patient.pk,
        "until": time.time() + services.LINK_SESSION_MINUTES * 60,
    }
    return redirect("questionnaires:home")
