"""The treatment-session page and its forms.

Every view fetches the session through :func:`access_session` (another patient's session is
404, a role without the permission 403), audits what it shows, and hands writes to
``workflow.py``. With HTMX a successful write answers with the refreshed session body, a
refused one with 422 and only the panel whose form needs fixing; without JavaScript the same
forms post and redirect back (or answer 422 with the whole page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.scheduling.models import Appointment
from ketaclinic.web.forms import add_service_errors

from . import checklist, concentration, forms, safety, services, workflow
from .models import SafetyAlert, SessionStatus, TreatmentSession

PANELS = {
    "checklist": "charting/_checklist.html",
    "administration": "charting/_administration.html",
    "vitals": "charting/_vitals.html",
    "vitals-entry": "charting/_vitals_entry.html",
    "alerts": "charting/_alerts.html",
    "observations": "charting/_observations.html",
    "discharge": "charting/_discharge.html",
    "notes": "charting/_notes.html",
    "body": "charting/_session_body.html",
}


def session_url(session: TreatmentSession) -> str:
    return reverse("charting:session", kwargs={"session_id": session.pk})


def access_session(request, session_id: int, permission: str) -> TreatmentSession:
    """The session ``request.user`` may act on with ``permission``, or 404/403."""
    session = (
        TreatmentSession.objects.select_related(
            "patient",
            "plan__protocol",
            "plan__screening__signed_by",
            "plan__signed_by",
            "appointment__type",
            "appointment__preparation",
            "chair__room",
            "nurse",
            "prescriber_on_site",
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        refuse(request, None, permission, f"no treatment session {session_id}")
        raise Http404("No such session.")
    access_patient(request, session.patient_id, permission)
    return session


def audit_read(request, session: TreatmentSession, section: str) -> None:
    trail.record(
        action="session.view",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"section": section},
    )


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """The session's record, read once per request (a fixed number of queries)."""

    checklist: list
    infusion: list
    boluses: list
    devices: list
    medications: list
    vitals: list
    alerts: list
    dissociation: list
    side_effects: list
    adverse_events: list
    notes: list
    discharge: Any

    @classmethod
    def read(cls, session: TreatmentSession) -> Sheet:
        by = ("recorded_by",)
        return cls(
            checklist=workflow.checklist_rows(session),
            infusion=list(session.infusion_events.select_related(*by).order_by("at", "id")),
            boluses=list(session.boluses.select_related(*by).order_by("at", "id")),
            devices=list(session.devices.select_related(*by).order_by("at", "id")),
            medications=list(session.medications_given.select_related(*by).order_by("at", "id")),
            vitals=list(session.vitals.select_related(*by, "device").order_by("at", "id")),
            alerts=list(
                session.alerts.select_related("acknowledged_by").order_by("raised_at", "id")
            ),
            dissociation=list(
                session.dissociation_ratings.select_related(*by).order_by("at", "id")
            ),
            side_effects=list(session.side_effects.select_related(*by).order_by("at", "id")),
            adverse_events=list(session.adverse_events.select_related(*by).order_by("at", "id")),
            notes=list(session.integration_notes.select_related("therapist").order_by("at", "id")),
            discharge=session.discharge if hasattr(session, "discharge") else None,
        )


def side_effect_label(code: str) -> str:
    try:
        return safety.SIDE_EFFECTS.get(code).label
    except safety.PolicyError:
        return code


def default_forms(session: TreatmentSession) -> dict[str, Any]:
    whom = settings.CLINIC_NAME
    if session.plan.signed_by_id:
        whom += f": ask for {session.plan.signed_by.display_name}"
    return {
        "start_form": forms.StartForm(
            route=session.route, initial={"rate_mg_per_min": session.planned_rate_mg_per_min}
        ),
        "not_started_form": forms.NotStartedForm(),
        "infusion_form": forms.InfusionForm(),
        "bolus_form": forms.BolusForm(),
        "device_form": forms.DeviceForm(),
        "end_dose_form": forms.EndDoseForm(),
        "product_form": forms.ProductForm(
            initial={
                "product": session.product,
                "concentration_mg_per_ml": session.concentration_mg_per_ml,
                "lot_number": session.lot_number,
                "lot_expiry": session.lot_expiry,
            }
        ),
        "medication_form": forms.MedicationForm(),
        "vitals_form": forms.VitalsForm(),
        "dissociation_form": forms.DissociationForm(options=workflow.dissociation_options()),
        "side_effect_form": forms.SideEffectForm(),
        "adverse_event_form": forms.AdverseEventForm(),
        "discharge_form": forms.DischargeForm(route=session.route, initial={"whom_to_call": whom}),
        "note_form": forms.IntegrationNoteForm(),
        "checklist_forms": {},
        "override_forms": {},
        "ack_forms": {},
    }


CHECK_NEEDS = {
    check.requires
    for schedule in safety.DEFAULT_MONITORING.schedules.values()
    for check in schedule.checks
}


def can_satisfy_a_check(row) -> bool:
    return any(all(getattr(row, name) is not None for name in need) for need in CHECK_NEEDS)


def session_context(request, session: TreatmentSession, **overrides) -> dict[str, Any]:
    sheet = Sheet.read(session)
    moment = workflow.reference_moment(session)
    states = workflow.checklist_states(session, rows=sheet.checklist, readings=sheet.vitals)
    total = workflow.delivered(session, sheet.infusion, sheet.boluses, sheet.devices)
    window = workflow.dose_window(session, sheet.infusion, sheet.devices)
    # Only readings measuring everything some check requires can satisfy one (a blood
    # pressure, every few minutes): matching the 1 Hz monitor rows too is wasted work.
    checks, no_schedule = workflow.monitoring(
        session, [r for r in sheet.vitals if can_satisfy_a_check(r)], window
    )
    assessment, blockers = workflow.discharge_assessment(
        session, criteria={}, readings=sheet.vitals, alerts=sheet.alerts, window=window
    )
    # The criteria are ticked on the form; the panel lists the other blockers apart.
    criteria_codes = {c.code for c in safety.DEFAULT_DISCHARGE.criteria}
    running = [e for e in workflow.final(sheet.infusion)]
    last_kind = running[-1].kind if running else ""
    user = request.user
    context = {
        "session": session,
        "patient": session.patient,
        "plan": session.plan,
        "sheet": sheet,
        "now": moment,
        "elapsed_minutes": int(workflow.dose_minute(session, moment))
        if session.dose_started_at
        else None,
        "states": states,
        "blocking": [s for s in states if s.blocking],
        "not_asked": [s.item.label for s in states if s.state == "not_applicable"],
        "checklist_source": checklist.DEFAULT_CHECKLIST.source,
        "total": total,
        "rest_warnings": [
            text for _w, text in workflow.device_rest_warnings(session, sheet.devices)
        ],
        "over_plan": total.total_mg > session.planned_dose_mg,
        "rate_range": workflow.rate_range(session) if session.route == "iv" else None,
        "infusion_state": {
            "start": "running",
            "rate_change": "running",
            "resume": "running",
            "pause": "paused",
            "stop": "stopped",
        }.get(last_kind, "not started"),
        "checks": checks,
        "no_schedule": no_schedule,
        "schedule_source": safety.DEFAULT_MONITORING.tolerance_basis,
        **flow_sheet(session, sheet.vitals, request.GET.get("flow_page")),
        "open_alerts": [a for a in sheet.alerts if a.is_open],
        "alerted_readings": {a.reading_id for a in sheet.alerts},
        "closed_alerts": [a for a in reversed(sheet.alerts) if not a.is_open],
        "marker": monitoring_marker(sheet),
        "assessment": assessment,
        "other_blockers": [b for b in blockers if b.code not in criteria_codes],
        "driving_advice": assessment.driving_advice,
        "observation_rule": safety.DEFAULT_DISCHARGE.observation.get(session.route),
        "side_effect_rows": [(row, side_effect_label(row.code)) for row in sheet.side_effects],
        "dissociation_options": workflow.dissociation_options(),
        "fasting_rule": workflow.fasting_rule(session),
        "is_active": session.status in workflow.ACTIVE,
        "can_chart": can(user, "session.chart"),
        "can_override": can(user, "session.override"),
        "can_discharge": can(user, "session.discharge"),
        "can_write_note": can(user, "integration_note.write"),
        "statuses": SessionStatus,
        "route_words": workflow.ROUTE_WORDS.get(session.route, session.route),
    }
    context.update(default_forms(session))
    context.update(overrides)
    context["checklist_rows"] = [
        (
            state,
            context["checklist_forms"].get(state.code),
            context["override_forms"].get(state.code),
        )
        for state in states
    ]
    context["check_rows"] = [(c, clock(session, c.due_minute)) for c in checks]
    context["earliest_discharge"] = clock(session, assessment.earliest_discharge_minute)
    context["second_checkers"] = (
        list(forms.clinicians().queryset)
        if session.status == SessionStatus.CHECKLIST and context["can_chart"]
        else []
    )
    context["open_alert_rows"] = [
        (a, context["ack_forms"].get(a.pk)) for a in context["open_alerts"]
    ]
    return context


#: The flow sheet shows this many readings a page, newest first: a monitor at 1 Hz writes
#: 7,200 in two hours, and rendering every one made the page grow with the session.
FLOW_PAGE_ROWS = 30
#: The summary of the whole session groups readings into intervals of this many minutes.
FLOW_INTERVAL_MIN = 15
SUMMARISED = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_pct", "resp_rate_per_min")


@dataclass
class Interval:
    """The final readings of one interval: how many, and each measurement's low and high."""

    start: dt.datetime
    count: int = 0
    lows: dict | None = None
    highs: dict | None = None

    def add(self, row) -> None:
        self.count += 1
        self.lows = self.lows or {}
        self.highs = self.highs or {}
        for name in SUMMARISED:
            value = getattr(row, name)
            if value is None:
                continue
            self.lows[name] = min(value, self.lows.get(name, value))
            self.highs[name] = max(value, self.highs.get(name, value))

    def span(self, name: str) -> str:
        low, high = (self.lows or {}).get(name), (self.highs or {}).get(name)
        if low is None:
            return ""
        return f"{low}" if low == high else f"{low}–{high}"

    @property
    def spans(self) -> dict[str, str]:
        return {name: self.span(name) for name in SUMMARISED}

    @property
    def bp(self) -> str:
        systolic, diastolic = self.span("systolic_mmhg"), self.span("diastolic_mmhg")
        return f"{systolic}/{diastolic or '–'}" if systolic else ""


def flow_sheet(session: TreatmentSession, readings: list, page: str | None) -> dict[str, Any]:
    """One page of the flow sheet (newest first) and the whole session by interval."""
    total = len(readings)
    pages = max(1, -(-total // FLOW_PAGE_ROWS))
    try:
        number = min(max(1, int(page or 1)), pages)
    except ValueError:
        number = 1
    end = total - (number - 1) * FLOW_PAGE_ROWS
    shown = readings[max(0, end - FLOW_PAGE_ROWS) : end]
    intervals: dict[int, Interval] = {}
    for row in readings:
        if row.status != "final":
            continue
        index = int((row.at - session.opened_at).total_seconds() // (FLOW_INTERVAL_MIN * 60))
        if index not in intervals:
            start = session.opened_at + dt.timedelta(minutes=index * FLOW_INTERVAL_MIN)
            intervals[index] = Interval(start)
        intervals[index].add(row)
    return {
        "flow": list(reversed(shown)),
        "flow_total": total,
        "flow_page": number,
        "flow_pages": pages,
        "flow_intervals": [intervals[k] for k in sorted(intervals, reverse=True)],
        "flow_interval_min": FLOW_INTERVAL_MIN,
    }


def clock(session: TreatmentSession, minute) -> dt.datetime | None:
    """The wall-clock time of a minute on the session's timeline (minutes from opening)."""
    if minute is None:
        return None
    return session.opened_at + dt.timedelta(minutes=float(minute))


def monitoring_marker(sheet: Sheet) -> str:
    """Changes whenever a reading or alert is added, acknowledged or struck out."""
    newest_reading = max((r.pk for r in sheet.vitals), default=0)
    newest_alert = max((a.pk for a in sheet.alerts), default=0)
    acknowledged = sum(1 for a in sheet.alerts if not a.is_open)
    struck = sum(1 for r in sheet.vitals if r.status != "final")
    return f"{newest_reading}-{newest_alert}-{acknowledged}-{struck}"


# --------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------


@login_required
@require_GET
def session_page(request, session_id: int):
    session = access_session(request, session_id, "session.view")
    audit_read(request, session, "session")
    return render(request, "charting/session.html", session_context(request, session))


@login_required
@require_GET
def concentration_panel(request, session_id: int):
    """The predicted-concentration curve, re-computed from the record on every load."""
    session = access_session(request, session_id, "session.view")
    shown = concentration.session_figure(session)
    return render(request, "charting/_concentration.html", {"session": session, "pk": shown})


@login_required
@require_GET
def monitoring_panel(request, session_id: int):
    """Polled by the page: 204 when nothing changed, else the fresh flow sheet and alerts."""
    session = access_session(request, session_id, "session.view")
    sheet_marker = monitoring_marker(
        Sheet(
            checklist=[],
            infusion=[],
            boluses=[],
            devices=[],
            medications=[],
            vitals=list(session.vitals.only("id", "status")),
            alerts=list(session.alerts.only("id", "acknowledged_at")),
            dissociation=[],
            side_effects=[],
            adverse_events=[],
            notes=[],
            discharge=None,
        )
    )
    if request.GET.get("since") == sheet_marker:
        return HttpResponse(status=204)
    audit_read(request, session, "monitoring")
    context = session_context(request, session)
    html = render_to_string(PANELS["vitals"], context, request) + oob(
        render_to_string(PANELS["alerts"], context, request)
    )
    return HttpResponse(html)


def oob(html: str) -> str:
    """Mark a rendered panel for an out-of-band swap (its root element carries the id)."""
    return html.replace(' class="panel', ' hx-swap-oob="true" class="panel', 1)


@login_required
@require_GET
def instructions(request, session_id: int):
    session = access_session(request, session_id, "session.view")
    discharge = getattr(session, "discharge", None)
    if discharge is None:
        raise Http404("Not discharged yet.")
    audit_read(request, session, "discharge-instructions")
    return render(
        request, "charting/instructions.html", {"session": session, "discharge": discharge}
    )


@login_required
@require_POST
def open_session(request, appointment_id: int):
    """Open the session of a checked-in treatment visit (from the appointment page)."""
    appointment = (
        Appointment.objects.select_related("type", "patient").filter(pk=appointment_id).first()
    )
    if appointment is None:
        refuse(request, None, "session.chart", f"no appointment {appointment_id}")
        raise Http404("No such appointment.")
    access_patient(request, appointment.patient_id, "session.chart")
    try:
        session = services.session_open(request=request, appointment=appointment)
    except ValidationError as error:
        trail.record(
            action="session.open",
            request=request,
            patient_id=appointment.patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": error.messages, "appointment": appointment.pk},
        )
        return render(
            request,
            "charting/open_refused.html",
            {"appointment": appointment, "errors": error.messages},
            status=422,
        )
    except services.ChairBusy as busy:  # audited as refused by the service
        return render(
            request,
            "charting/open_refused.html",
            {"appointment": appointment, "errors": [busy.message], "running": busy.other},
            status=409,
        )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = session_url(session)
        return response
    return redirect(session_url(session))


# --------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------


def answer(
    request,
    session_id: int,
    *,
    permission: str,
    form: Callable[[TreatmentSession], Any],
    act: Callable[[TreatmentSession, Any], Any],
    panel: str,
    form_name: str,
    action: str,
    done: Callable[[Any], str],
    keyed: Any = None,
):
    """Validate ``form``, run ``act`` through the workflow, answer with page or panel.

    ``keyed`` puts the bound form into a per-row mapping (checklist items, alerts) rather
    than the panel's single form.
    """
    session = access_session(request, session_id, permission)
    bound = form(session)
    status = 422
    if bound.is_valid():
        try:
            result = act(session, bound)
        except ValidationError as error:
            # A throttled second-clinician password answers 429, other refusals 422.
            status = getattr(error, "status_code", 422)
            add_service_errors(bound, error)
        else:
            return written(request, session, done(result))
    else:
        audit_invalid_form(request, bound, action, session.patient_id)
    overrides = {form_name: {keyed: bound}} if keyed is not None else {form_name: bound}
    return refused(request, session, panel, overrides, status=status)


def written(request, session: TreatmentSession, notice: str) -> HttpResponse:
    session = access_session(request, session.pk, "session.view")
    if request.htmx:
        context = session_context(request, session, notice=notice)
        return render(request, PANELS["body"], context)
    messages.success(request, notice)
    return redirect(session_url(session))


def refused(
    request, session: TreatmentSession, panel: str, overrides: dict, status: int = 422
) -> HttpResponse:
    context = session_context(request, session, **overrides)
    if request.htmx:
        response = render(request, PANELS[panel], context, status=status)
        response["HX-Retarget"] = f"#panel-{panel}"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "charting/session.html", context, status=status)


@login_required
@require_POST
def checklist_record(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.ChecklistForm(request.POST),
        act=lambda s, f: workflow.checklist_record(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            outcome=f.cleaned_data["outcome"],
            note=f.cleaned_data["note"],
            second_checker=f.cleaned_data["second_checker"],
            second_checker_password=f.cleaned_data["second_checker_password"],
        ),
        panel="checklist",
        form_name="checklist_forms",
        keyed=request.POST.get("code", ""),
        action="session.checklist",
        done=lambda e: (
            f"Checklist: {checklist.DEFAULT_CHECKLIST.item(e.code).label} — "
            f"{'confirmed' if e.outcome == 'passed' else 'not met'}."
        ),
    )


@login_required
@require_POST
def checklist_override(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.override",
        form=lambda s: forms.OverrideForm(request.POST),
        act=lambda s, f: workflow.checklist_override(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            reason=f.cleaned_data["override_reason"],
        ),
        panel="checklist",
        form_name="override_forms",
        keyed=request.POST.get("code", ""),
        action="session.checklist_override",
        done=lambda e: f"Overridden: {checklist.DEFAULT_CHECKLIST.item(e.code).label}.",
    )


@login_required
@require_POST
def start(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.StartForm(request.POST, route=s.route),
        act=lambda s, f: workflow.session_start(
            request=request,
            session=s,
            at=f.moment(),
            rate_mg_per_min=f.cleaned_data.get("rate_mg_per_min"),
            prescriber_on_site=f.cleaned_data.get("prescriber_on_site"),
        ),
        panel="checklist",
        form_name="start_form",
        action="session.start",
        done=lambda s: f"Dosing started at {workflow.local_time(s.dose_started_at)}.",
    )


@login_required
@require_POST
def not_started(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.NotStartedForm(request.POST),
        act=lambda s, f: workflow.session_not_started(
            request=request, session=s, reason=f.cleaned_data["reason"]
        ),
        panel="checklist",
        form_name="not_started_form",
        action="session.not_started",
        done=lambda s: "The session is marked not started.",
    )


@login_required
@require_POST
def infusion(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.InfusionForm(request.POST),
        act=lambda s, f: workflow.infusion_record(
            request=request,
            session=s,
            kind=f.cleaned_data["kind"],
            at=f.moment(),
            rate_mg_per_min=f.cleaned_data["rate_mg_per_min"],
            reason=f.cleaned_data["reason"],
        ),
        panel="administration",
        form_name="infusion_form",
        action="session.infusion",
        done=lambda e: (
            f"Infusion {e.get_kind_display().lower()} at {workflow.local_time(e.at)}"
            + (f", {e.rate_mg_per_min.normalize()} mg/min." if e.rate_mg_per_min else ".")
        ),
    )


@login_required
@require_POST
def bolus(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.BolusForm(request.POST),
        act=lambda s, f: workflow.bolus_record(
            request=request, session=s, dose_mg=f.cleaned_data["dose_mg"], at=f.moment()
        ),
        panel="administration",
        form_name="bolus_form",
        action="session.bolus",
        done=lambda b: f"Injection of {b.dose_mg.normalize()} mg at {workflow.local_time(b.at)}.",
    )


@login_required
@require_POST
def device(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.DeviceForm(request.POST),
        act=lambda s, f: workflow.device_record(request=request, session=s, at=f.moment()),
        panel="administration",
        form_name="device_form",
        action="session.device",
        done=lambda r: (
            f"Device used at {workflow.local_time(r.device.at)}."
            + "".join(f" Warning: {w}." for w in r.warnings)
        ),
    )


@login_required
@require_POST
def end_dose(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.EndDoseForm(request.POST),
        act=lambda s, f: workflow.dose_end(request=request, session=s, at=f.moment()),
        panel="administration",
        form_name="end_dose_form",
        action="session.dose_end",
        done=lambda s: f"Dose ended at {workflow.local_time(s.dose_ended_at)}: observation.",
    )


@login_required
@require_POST
def product(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.ProductForm(request.POST),
        act=lambda s, f: workflow.product_record(request=request, session=s, **f.cleaned_data),
        panel="administration",
        form_name="product_form",
        action="session.product",
        done=lambda s: f"Product recorded: {s.product}, lot {s.lot_number}.",
    )


@login_required
@require_POST
def medication(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.MedicationForm(request.POST),
        act=lambda s, f: workflow.medication_give(
            request=request,
            session=s,
            kind=f.cleaned_data["kind"],
            drug=f.cleaned_data["drug"],
            dose=f.cleaned_data["dose"],
            route=f.cleaned_data["route"],
            reason=f.cleaned_data["reason"],
            at=f.moment(),
        ),
        panel="administration",
        form_name="medication_form",
        action="session.medication",
        done=lambda m: f"{m.get_kind_display()}: {m.drug} {m.dose} at {workflow.local_time(m.at)}.",
    )


@login_required
@require_POST
def vitals(request, session_id: int):
    def done(result) -> str:
        row, alerts = result
        text = f"Vital signs at {workflow.local_time(row.at)}: {workflow.reading_text(row)}."
        return text + "".join(f" ALERT {a.get_level_display().upper()}: {a.code}." for a in alerts)

    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.VitalsForm(request.POST),
        act=lambda s, f: workflow.vitals_enter(
            request=request, session=s, values=f.values(), at=f.moment()
        ),
        panel="vitals-entry",
        form_name="vitals_form",
        action="session.vitals",
        done=done,
    )


@login_required
@require_POST
def acknowledge(request, session_id: int, alert_id: int):
    def act(session, form):
        alert = SafetyAlert.objects.filter(pk=alert_id, session=session).first()
        if alert is None:
            raise ValidationError({"action_taken": "No such alert in this session."})
        return workflow.alert_acknowledge(
            request=request,
            session=session,
            alert=alert,
            action_taken=form.cleaned_data["action_taken"],
        )

    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.AcknowledgeForm(request.POST),
        act=act,
        panel="alerts",
        form_name="ack_forms",
        keyed=alert_id,
        action="session.alert_acknowledged",
        done=lambda a: f"Alert {a.code} acknowledged by {a.acknowledged_by.display_name}.",
    )


@login_required
@require_POST
def dissociation(request, session_id: int):
    options = workflow.dissociation_options()
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.DissociationForm(request.POST, options=options),
        act=lambda s, f: workflow.dissociation_record(
            request=request,
            session=s,
            score=f.cleaned_data["score"],
            cadss_items=f.cadss_items(),
            at=f.moment(),
        ),
        panel="observations",
        form_name="dissociation_form",
        action="session.dissociation",
        done=lambda r: (
            f"Dissociation {r.score}/{options.scale_max} at {workflow.local_time(r.at)}."
        ),
    )


@login_required
@require_POST
def side_effect(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.SideEffectForm(request.POST),
        act=lambda s, f: workflow.side_effect_record(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            severity=f.cleaned_data["severity"],
            action=f.cleaned_data["action"],
            at=f.moment(),
        ),
        panel="observations",
        form_name="side_effect_form",
        action="session.side_effect",
        done=lambda e: f"Side effect: {side_effect_label(e.code)} ({e.severity}).",
    )


@login_required
@require_POST
def adverse_event(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.AdverseEventForm(request.POST),
        act=lambda s, f: workflow.adverse_event_record(
            request=request,
            session=s,
            description=f.cleaned_data["description"],
            serious=f.cleaned_data["serious"],
            at=f.moment(),
        ),
        panel="observations",
        form_name="adverse_event_form",
        action="session.adverse_event",
        done=lambda e: (
            "Adverse event recorded"
            + (" and flagged for reporting" if e.report_required else "")
            + (" (REMS reportable)" if e.rems_reportable else "")
            + "."
        ),
    )


@login_required
@require_POST
def discharge(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.discharge",
        form=lambda s: forms.DischargeForm(request.POST, route=s.route),
        act=lambda s, f: workflow.discharge_sign(
            request=request,
            session=s,
            criteria=f.ticked(),
            whom_to_call=f.cleaned_data["whom_to_call"],
        ),
        panel="discharge",
        form_name="discharge_form",
        action="session.discharge",
        done=lambda d: (
            f"Discharged by {d.signed_by.display_name} at {workflow.local_time(d.signed_at)}."
        ),
    )


@login_required
@require_POST
def integration_note(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="integration_note.write",
        form=lambda s: forms.IntegrationNoteForm(request.POST),
        act=lambda s, f: workflow.integration_note_write(
            request=request, session=s, note=f.cleaned_data["note"]
        ),
        panel="notes",
        form_name="note_form",
        action="session.integration_note",
        done=lambda n: "Integration note saved.",
    )


@login_required
@require_POST
def entry_in_error(request, session_id: int, kind: str, entry_id: int):
    if kind not in workflow.ENTRY_KINDS:
        raise Http404
    permission = "integration_note.write" if kind == "integration_note" else "session.chart"
    session = access_session(request, session_id, permission)
    form = forms.ErrorForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": "Say why the entry is wrong."})
        workflow.entry_mark_in_error(
            request=request,
            session=session,
            kind=kind,
            entry_id=entry_id,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        if not form.is_valid():
            audit_invalid_form(request, form, "session.entry_in_error", session.patient_id)
        problem = "; ".join(error.messages)
        context = session_context(request, session, error_notice=problem)
        if request.htmx:
            response = render(request, PANELS["body"], context, status=422)
            response["HX-Retarget"] = "#session-body"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render(request, "charting/session.html", context, status=422)
    label = workflow.ENTRY_KINDS[kind][1]
    return written(request, session, f"Marked entered in error: {label}.")
