"""The dose begins and ends: the checklist gate opens dosing, the last dose given closes it.

Dosing starts only when no checklist item blocks (``checklist.py``); the items passed from
the record are copied into the checklist as they stood, so the chart keeps what the record
said when dosing started even if the record changes later. An IV infusion starts at a rate
within the protocol's range; esketamine needs the prescriber on site named (Spravato REMS).
A session that will not start today is closed with the reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError

from ketaclinic.accounts.permissions import can
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import checklist as gate_rules
from .administration_service import check_rate
from .checklist_facts import checklist_facts
from .checklist_service import SNAPSHOT, checklist_entries, checklist_rows
from .models import (
    ChecklistEntry,
    ChecklistStatus,
    InfusionEvent,
    InfusionEventKind,
    SessionStatus,
    TreatmentSession,
)
from .session_service import (
    advance_appointment,
    audit,
    end_dose,
    entry_time,
    final,
    require,
    require_status,
    session_transition,
    write_locked,
)


def session_start(
    *,
    request,
    session: TreatmentSession,
    at: dt.datetime | None = None,
    rate_mg_per_min: Decimal | None = None,
    prescriber_on_site=None,
) -> TreatmentSession:
    """Start dosing once the checklist gate is clear (IV: the infusion starts at ``rate``).

    Items passed from the record are copied into the checklist as it stood, so the chart
    keeps what the record said when dosing started even if the record changes later.
    """

    def write(locked: TreatmentSession) -> TreatmentSession:
        require_status(locked, [SessionStatus.CHECKLIST], "start dosing")
        states = _clear_gate(locked)
        moment = entry_time(locked, at)
        rate = None
        if locked.route == "iv":
            rate = check_rate(locked, rate_mg_per_min or locked.planned_rate_mg_per_min)
        _name_prescriber_on_site(locked, prescriber_on_site)
        _keep_record_answers(request, locked, states, moment)
        session_transition(
            request=request, session=locked, to=SessionStatus.DOSING, dose_started_at=moment
        )
        if rate is not None:
            InfusionEvent.objects.create(
                session=locked,
                kind=InfusionEventKind.START,
                rate_mg_per_min=rate,
                at=moment,
                recorded_by=request.user,
            )
        advance_appointment(request, locked, AppointmentStatus.IN_SESSION)
        audit(
            request,
            "session.start",
            locked,
            rate_mg_per_min=str(rate) if rate is not None else None,
            overridden={s.code: s.detail for s in states if s.state == "overridden"},
        )
        return locked

    return write_locked(request, session, "session.start", write)


def _clear_gate(session: TreatmentSession) -> list[gate_rules.ItemState]:
    """Where every item stands; refused, naming each, while any item blocks."""
    states = gate_rules.states(checklist_facts(session), checklist_entries(checklist_rows(session)))
    blocking = [s for s in states if s.blocking]
    if blocking:
        raise ValidationError({"checklist": [f"{s.item.label}: {s.detail}" for s in blocking]})
    return states


def _name_prescriber_on_site(session: TreatmentSession, prescriber) -> None:
    """Esketamine: the prescriber on site during dosing and monitoring (Spravato REMS)."""
    if session.route == "esketamine":
        require(
            prescriber is not None,
            "prescriber_on_site",
            "Name the prescriber on site during dosing and monitoring (Spravato REMS).",
        )
    if prescriber is None:
        return
    require(
        can(prescriber, "session.override") and prescriber.is_active,
        "prescriber_on_site",
        "The prescriber on site must be a prescriber.",
    )
    session.prescriber_on_site = prescriber
    session.save(update_fields=["prescriber_on_site"])


def _keep_record_answers(
    request, session: TreatmentSession, states: list[gate_rules.ItemState], moment: dt.datetime
) -> None:
    """Copy the items passed from the record into the checklist, as they stood at the start."""
    ChecklistEntry.objects.bulk_create(
        ChecklistEntry(
            session=session,
            code=s.code,
            outcome=ChecklistStatus.PASSED,
            note=f"{SNAPSHOT}{s.detail}"[:300],
            recorded_by=request.user,
            at=moment,
        )
        for s in states
        if s.how == "record" and s.state == "passed"
    )


def session_not_started(*, request, session: TreatmentSession, reason: str) -> TreatmentSession:
    """The session will not start today (deferred, patient unwell...): say why."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> TreatmentSession:
        require_status(locked, [SessionStatus.CHECKLIST], "mark the session not started")
        require(bool(reason), "reason", "Say why the session does not start.")
        session_transition(request=request, session=locked, to=SessionStatus.NOT_STARTED)
        audit(request, "session.not_started_reason", locked, reason=reason[:300])
        return locked

    return write_locked(request, session, "session.not_started", write)


def dose_end(
    *, request, session: TreatmentSession, at: dt.datetime | None = None
) -> TreatmentSession:
    """Dosing is over (IM injection given, last esketamine device used): observation begins.

    An infusion ends when it is stopped (``administration_service.infusion_record``).
    """

    def write(locked: TreatmentSession) -> TreatmentSession:
        require_status(locked, [SessionStatus.DOSING], "end the dose")
        if locked.route == "iv":
            raise ValidationError({"status": "Stop the infusion to end the dose."})
        given = final(locked.boluses.all()) + final(locked.devices.all())
        require(bool(given), "status", "Nothing has been given yet.")
        last = max(row.at for row in given)
        moment = entry_time(locked, at, not_before=last, not_before_what="the last dose given")
        end_dose(request, locked, moment)
        return locked

    return write_locked(request, session, "session.dose_end", write)
