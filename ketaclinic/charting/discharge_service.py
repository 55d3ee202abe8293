"""Monitoring after the dose, discharge, and the integration note that follows the treatment.

The pure rules live in ``safety.py``: the route's monitoring schedule, the discharge
criteria, the minimum observation and the driving advice. This module reads the record into
their plain data: when the dose started and ended, which checks are done or due, what still
blocks discharge (every unacknowledged alert among it). The discharging clinician signs:
the instructions are written, the session ends and the visit is completed. The therapist's
integration note follows the treatment it belongs to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.scheduling.models import Status as AppointmentStatus
from ketaclinic.scheduling.preparation import Instruction

from . import safety, vitals
from .administration_service import delivered
from .models import (
    Discharge,
    InfusionEvent,
    IntegrationNote,
    NasalDevice,
    SafetyAlert,
    SessionStatus,
    TreatmentSession,
    VitalReading,
)
from .session_service import (
    ROUTE_WORDS,
    advance_appointment,
    audit,
    entry_time,
    final,
    local_time,
    minute_of,
    now,
    require,
    require_status,
    session_transition,
    write_locked,
)
from .vitals_service import clinic_limits, clinic_policy, to_pure

#: Why an open alert blocks discharge, as the blocker cites it.
ALERTS_ACKNOWLEDGED = "Clinic policy: alerts are acknowledged by a named clinician"


# ---------------------------------------------------------------- the dose window and monitoring


@dataclass(frozen=True)
class DoseWindow:
    """Dose start and end as the protocol counts them, in minutes from opening."""

    start: Decimal | None
    end: Decimal | None


def dose_window(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    devices: Iterable[NasalDevice] = (),
) -> DoseWindow:
    """IV: infusion start and stop; esketamine: first and last device; IM: dose start/end."""
    if session.route == "esketamine":
        used = sorted(row.at for row in final(devices))
        if used:
            last = minute_of(session, used[-1]) if session.dose_ended_at else None
            return DoseWindow(minute_of(session, used[0]), last)
        return DoseWindow(None, None)
    start = minute_of(session, session.dose_started_at) if session.dose_started_at else None
    end = minute_of(session, session.dose_ended_at) if session.dose_ended_at else None
    return DoseWindow(start, end)


def reference_moment(session: TreatmentSession) -> dt.datetime:
    """ "Now" for the session: the discharge time once discharged, else the present."""
    return session.discharged_at or now()


def monitoring(
    session: TreatmentSession, readings: Sequence[VitalReading], window: DoseWindow
) -> tuple[list[safety.ScheduledCheck], str]:
    """The expected vital-sign checks (done, due, overdue, upcoming), or why there are none."""
    if window.start is None:
        return [], "The schedule starts when dosing starts."
    try:
        checks = safety.monitoring_checks(
            session.route,
            dose_start_minute=window.start,
            dose_end_minute=window.end,
            leaving_minute=minute_of(session, session.discharged_at)
            if session.discharged_at
            else None,
            now_minute=minute_of(session, reference_moment(session)),
            readings=[to_pure(session, row) for row in final(readings)],
        )
    except safety.PolicyError as error:
        return [], f"{error}. The clinic sets this route's schedule."
    return checks, ""


def driving_advice(route: str) -> Instruction:
    """The discharge policy's driving advice for ``route``, as a visit instruction.

    Registered with scheduling (``scheduling.preparation``), which lists it among the
    preparation instructions.
    """
    advice = safety.DEFAULT_DISCHARGE.driving_advice_for(route)
    return Instruction(advice.text, advice.source)


def observation_anchor(session: TreatmentSession, window: DoseWindow) -> Decimal | None:
    """Where the minimum observation is counted from: the route's dose start or dose end."""
    rule = safety.DEFAULT_DISCHARGE.observation.get(session.route)
    if rule is not None and rule.anchor == "dose_start":
        return window.start
    return window.end


# ---------------------------------------------------------------- discharge


def discharge_assessment(
    session: TreatmentSession,
    *,
    criteria: Mapping[str, bool],
    readings: Sequence[VitalReading],
    alerts: Sequence[SafetyAlert],
    window: DoseWindow,
    at: dt.datetime | None = None,
) -> tuple[safety.DischargeAssessment, list[safety.Blocker]]:
    """What still blocks discharge: the pure blockers plus every unacknowledged alert."""
    pure = [to_pure(session, row) for row in final(readings)]
    in_force = safety.evaluate(pure, clinic_policy(), clinic_limits())
    assessment = safety.discharge_blockers(
        session.route,
        checklist=criteria,
        now_minute=minute_of(session, at or reference_moment(session)),
        dose_start_minute=window.start,
        dose_end_minute=window.end,
        alerts=in_force,
    )
    blockers = list(assessment.blockers)
    blockers.extend(
        safety.Blocker(
            "open_alert",
            f"{a.label} alert at {local_time(a.raised_at)} not acknowledged",
            ALERTS_ACKNOWLEDGED,
        )
        for a in alerts
        if a.is_open
    )
    return assessment, blockers


def discharge_instructions(
    session: TreatmentSession, *, whom_to_call: str, signed_by, at: dt.datetime, total_mg: Decimal
) -> str:
    advice = safety.DEFAULT_DISCHARGE.driving_advice_for(session.route)
    local = timezone.localtime(at)
    return "\n".join(
        [
            f"Discharge instructions for {session.patient.full_name} ({session.patient.mrn})",
            f"{settings.CLINIC_NAME}, {local:%Y-%m-%d %H:%M}",
            "",
            f"Treatment today: {session.drug}, {ROUTE_WORDS.get(session.route, session.route)}, "
            f"{vitals.format_number(total_mg)} mg given.",
            f"Driving: {advice.text} (source: {advice.source})",
            "Go home with the responsible adult who came to collect you.",
            f"Whom to call with questions or if you feel unwell: {whom_to_call}",
            "",
            f"Discharged by {signed_by.display_name}.",
        ]
    )


def discharge_sign(
    *,
    request,
    session: TreatmentSession,
    criteria: Mapping[str, bool],
    whom_to_call: str,
    at: dt.datetime | None = None,
) -> Discharge:
    """The discharging clinician signs: criteria met, minimum observation over, alerts
    acknowledged. Writes the instructions (driving advice, whom to call), ends the session and
    completes the visit."""
    whom_to_call = (whom_to_call or "").strip()

    def write(locked: TreatmentSession) -> Discharge:
        require(
            can(request.user, "session.discharge"),
            "status",
            "Only a nurse or prescriber discharges.",
        )
        require_status(locked, [SessionStatus.OBSERVATION], "discharge")
        moment = entry_time(
            locked, at, not_before=locked.dose_ended_at, not_before_what="the dose ended"
        )
        infusion = list(locked.infusion_events.all())
        devices = list(locked.devices.all())
        window = dose_window(locked, infusion, devices)
        ticked = _require_dischargeable(locked, criteria, whom_to_call, window, moment)
        total = delivered(locked, infusion, locked.boluses.all(), devices, at=moment)
        discharge = _discharge_create(request, locked, ticked, whom_to_call, window, moment, total)
        session_transition(
            request=request, session=locked, to=SessionStatus.DISCHARGED, discharged_at=moment
        )
        advance_appointment(request, locked, AppointmentStatus.COMPLETED)
        audit(
            request,
            "session.discharge_signed",
            locked,
            discharge,
            criteria=ticked,
            observation_minutes=discharge.observation_minutes,
            delivered_mg=str(total.total_mg),
        )
        return discharge

    return write_locked(request, session, "session.discharge", write)


def _require_dischargeable(
    session: TreatmentSession,
    criteria: Mapping[str, bool],
    whom_to_call: str,
    window: DoseWindow,
    moment: dt.datetime,
) -> dict[str, bool]:
    """The route's criteria as ticked; refused, each blocker on its criterion, while any blocks."""
    readings = list(session.vitals.order_by("at", "id"))
    asked = {c.code for c in safety.DEFAULT_DISCHARGE.criteria_for(session.route)}
    ticked = {code: bool(criteria.get(code)) for code in asked}
    _assessment, blockers = discharge_assessment(
        session,
        criteria=ticked,
        readings=readings,
        alerts=list(session.alerts.all()),
        window=window,
        at=moment,
    )
    errors: dict[str, list[str]] = {}
    for blocker in blockers:
        field = blocker.code if blocker.code in asked else "__all__"
        errors.setdefault(field, []).append(blocker.message)
    if not whom_to_call:
        errors["whom_to_call"] = ["Say whom the patient calls after leaving."]
    if errors:
        raise ValidationError(errors)
    return ticked


def _discharge_create(
    request,
    session: TreatmentSession,
    ticked: dict[str, bool],
    whom_to_call: str,
    window: DoseWindow,
    moment: dt.datetime,
    total,
) -> Discharge:
    """The signed discharge, with its instructions and the minutes observed."""
    anchor = observation_anchor(session, window)
    observed = minute_of(session, moment) - anchor if anchor is not None else Decimal(0)
    return Discharge.objects.create(
        session=session,
        criteria=ticked,
        instructions=discharge_instructions(
            session,
            whom_to_call=whom_to_call,
            signed_by=request.user,
            at=moment,
            total_mg=total.total_mg,
        ),
        signed_by=request.user,
        signed_at=moment,
        observation_minutes=int(observed.to_integral_value(rounding=ROUND_FLOOR)),
    )


# ---------------------------------------------------------------- the integration note


def integration_note_write(
    *, request, session: TreatmentSession, note: str, at: dt.datetime | None = None
) -> IntegrationNote:
    """The therapist's integration session note, linked to the treatment it follows."""
    note = (note or "").strip()

    def write(locked: TreatmentSession) -> IntegrationNote:
        require(
            can(request.user, "integration_note.write"),
            "note",
            "Only a therapist or prescriber writes integration notes.",
        )
        require_status(
            locked,
            [SessionStatus.DISCHARGED],
            "write an integration note (it follows the treatment)",
        )
        require(bool(note), "note", "Write the note.")
        moment = at or now()
        require(moment <= now(), "at", "The note cannot be dated in the future.")
        discharged = timezone.localtime(locked.discharged_at)
        require(
            moment >= locked.discharged_at,
            "at",
            "The integration session follows the treatment "
            f"(discharged {discharged:%Y-%m-%d %H:%M}).",
        )
        written = IntegrationNote.objects.create(
            session=locked, therapist=request.user, note=note, at=moment, recorded_by=request.user
        )
        audit(request, "session.integration_note", locked, written, length=len(note))
        return written

    return write_locked(request, session, "session.integration_note", write)
