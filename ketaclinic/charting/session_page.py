"""What the treatment-session page shows: the context its templates render, part by part.

Read once per request from :class:`~.session_record.Sheet` (a fixed number of queries
however long the session ran), then each panel's part is worked out by the services and pure
modules: the checklist gate, the delivered dose, the monitoring schedule and flow sheet, the
alerts, what still blocks discharge. Forms a refused write bound (with their errors) replace
the blank ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from ketaclinic.accounts.permissions import can

from . import (
    administration_service,
    checklist,
    checklist_facts,
    checklist_service,
    discharge_service,
    forms,
    observation_service,
    policy,
    safety,
    session_service,
)
from .flow_sheet import flow_context
from .models import ACTIVE, SessionStatus, TreatmentSession
from .session_record import Sheet, monitoring_marker

#: The infusion's state after its newest valid event.
INFUSION_STATE = {
    "start": "running",
    "rate_change": "running",
    "resume": "running",
    "pause": "paused",
    "stop": "stopped",
}

#: What the product form shows as recorded so far.
PRODUCT_FIELDS = ("product", "concentration_mg_per_ml", "lot_number", "lot_expiry")


def clock(session: TreatmentSession, minute) -> dt.datetime | None:
    """The wall-clock time of a minute on the session's timeline (minutes from opening)."""
    if minute is None:
        return None
    return session.opened_at + dt.timedelta(minutes=float(minute))


def side_effect_label(code: str) -> str:
    try:
        return safety.SIDE_EFFECTS.get(code).label
    except safety.PolicyError:
        return code


def checklist_part(session: TreatmentSession, sheet: Sheet) -> dict[str, Any]:
    """The gate: where each item stands, which block the start, which are not asked."""
    # Before dosing the vitals item needs the newest complete reading and the alerts in force
    # on the readings so far: the decisive readings hold both. After, it is a snapshot.
    states = checklist_service.checklist_states(
        session, rows=sheet.checklist, readings=sheet.readings.decisive
    )
    return {
        "states": states,
        "blocking": [s for s in states if s.blocking],
        "not_asked": [s.item.label for s in states if s.state == "not_applicable"],
        "checklist_source": checklist.DEFAULT_CHECKLIST.source,
        "fasting_rule": checklist_facts.fasting_rule(session),
    }


def administration_part(session: TreatmentSession, sheet: Sheet) -> dict[str, Any]:
    """The dose delivered so far, computed from the record, and the infusion's state."""
    total = administration_service.delivered(session, sheet.infusion, sheet.boluses, sheet.devices)
    running = session_service.final(sheet.infusion)
    return {
        "total": total,
        "rest_warnings": [
            text for _w, text in administration_service.device_rest_warnings(session, sheet.devices)
        ],
        "over_plan": total.total_mg > session.planned_dose_mg,
        "rate_range": administration_service.rate_range(session) if session.route == "iv" else None,
        "infusion_state": INFUSION_STATE.get(running[-1].kind if running else "", "not started"),
        "route_words": session_service.ROUTE_WORDS.get(session.route, session.route),
    }


def vitals_part(session: TreatmentSession, sheet: Sheet, window) -> dict[str, Any]:
    """The monitoring schedule, the flow sheet's page and summary, and the alerts."""
    readings = sheet.readings
    checks, no_schedule = discharge_service.monitoring(session, readings.check, window)
    return {
        "checks": checks,
        "no_schedule": no_schedule,
        "check_rows": [(c, clock(session, c.due_minute)) for c in checks],
        "schedule_source": safety.DEFAULT_MONITORING.tolerance_basis,
        **flow_context(readings.summary, readings.page, readings.flow),
        "open_alerts": [a for a in sheet.alerts if a.is_open],
        "alerted_readings": {a.reading_id for a in sheet.alerts},
        "closed_alerts": [a for a in reversed(sheet.alerts) if not a.is_open],
        "marker": monitoring_marker(readings.summary, sheet.alerts),
    }


def discharge_part(session: TreatmentSession, sheet: Sheet, window) -> dict[str, Any]:
    """What still blocks discharge: the criteria are ticked on the form, the rest listed."""
    assessment, blockers = discharge_service.discharge_assessment(
        session, criteria={}, readings=sheet.readings.decisive, alerts=sheet.alerts, window=window
    )
    criteria_codes = {c.code for c in safety.DEFAULT_DISCHARGE.criteria}
    return {
        "assessment": assessment,
        "other_blockers": [b for b in blockers if b.code not in criteria_codes],
        "driving_advice": assessment.driving_advice,
        "observation_rule": safety.DEFAULT_DISCHARGE.observation.get(session.route),
        "earliest_discharge": clock(session, assessment.earliest_discharge_minute),
    }


def observations_part(sheet: Sheet) -> dict[str, Any]:
    return {
        "side_effect_rows": [(row, side_effect_label(row.code)) for row in sheet.side_effects],
        "dissociation_options": observation_service.dissociation_options(),
    }


def permissions_part(user, session: TreatmentSession) -> dict[str, Any]:
    """What this user may do here; the page shows only the forms they may use."""
    return {
        "is_active": session.status in ACTIVE,
        "can_chart": can(user, "session.chart"),
        "can_override": can(user, "session.override"),
        "can_discharge": can(user, "session.discharge"),
        "can_write_note": can(user, "integration_note.write"),
    }


def default_forms(session: TreatmentSession) -> dict[str, Any]:
    """Every panel's blank form (a refused write replaces its own with the bound one)."""
    whom = settings.CLINIC_NAME
    if session.plan.signed_by_id:
        whom += f": ask for {session.plan.signed_by.display_name}"
    product = {name: getattr(session, name) for name in PRODUCT_FIELDS}
    return {
        "start_form": forms.StartForm(
            route=session.route, initial={"rate_mg_per_min": session.planned_rate_mg_per_min}
        ),
        "not_started_form": forms.NotStartedForm(),
        "infusion_form": forms.InfusionForm(),
        "bolus_form": forms.BolusForm(),
        "device_form": forms.DeviceForm(),
        "end_dose_form": forms.EndDoseForm(),
        "product_form": forms.ProductForm(initial=product),
        "medication_form": forms.MedicationForm(),
        "vitals_form": forms.VitalsForm(),
        "dissociation_form": forms.DissociationForm(
            options=observation_service.dissociation_options()
        ),
        "side_effect_form": forms.SideEffectForm(),
        "adverse_event_form": forms.AdverseEventForm(),
        "discharge_form": forms.DischargeForm(route=session.route, initial={"whom_to_call": whom}),
        "note_form": forms.IntegrationNoteForm(),
        "checklist_forms": {},
        "override_forms": {},
        "ack_forms": {},
    }


def form_rows(session: TreatmentSession, context: dict[str, Any]) -> dict[str, Any]:
    """Each checklist item and open alert beside its own form, bound when it was refused."""
    return {
        "checklist_rows": [
            (
                state,
                context["checklist_forms"].get(state.code),
                context["override_forms"].get(state.code),
            )
            for state in context["states"]
        ],
        "second_checkers": (
            list(forms.clinicians().queryset)
            if session.status == SessionStatus.CHECKLIST and context["can_chart"]
            else []
        ),
        "open_alert_rows": [(a, context["ack_forms"].get(a.pk)) for a in context["open_alerts"]],
    }


def session_context(request, session: TreatmentSession, **overrides) -> dict[str, Any]:
    """Everything the session page and its panels render; ``overrides`` are bound forms."""
    # The vital-sign policy in force: the clinic's newest signed version.
    sheet = Sheet.read(session, policy.in_force(), request.GET.get("flow_page"))
    window = discharge_service.dose_window(session, sheet.infusion, sheet.devices)
    moment = discharge_service.reference_moment(session)
    context = {
        "session": session,
        "patient": session.patient,
        "plan": session.plan,
        "sheet": sheet,
        "now": moment,
        "elapsed_minutes": int(session_service.dose_minute(session, moment))
        if session.dose_started_at
        else None,
        "statuses": SessionStatus,
        **checklist_part(session, sheet),
        **administration_part(session, sheet),
        **vitals_part(session, sheet, window),
        **discharge_part(session, sheet, window),
        **observations_part(sheet),
        **permissions_part(request.user, session),
        **default_forms(session),
    }
    context.update(overrides)
    context.update(form_rows(session, context))
    return context


def monitoring_context(request, session: TreatmentSession) -> dict[str, Any]:
    """What the polled vitals and alerts panels render: the same parts as the page's, read
    without the rest of the record."""
    sheet = Sheet.for_monitoring(session, policy.in_force(), request.GET.get("flow_page"))
    window = discharge_service.dose_window(session, sheet.infusion, sheet.devices)
    context = {
        "session": session,
        "sheet": sheet,
        **vitals_part(session, sheet, window),
        **permissions_part(request.user, session),
    }
    context["open_alert_rows"] = [(alert, None) for alert in context["open_alerts"]]
    return context
