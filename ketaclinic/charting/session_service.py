"""A treatment session: opening it, moving it along its status table, and what every write shares.

Each phase of a session has its service module beside its pure module: the checklist
(``checklist_service.py``), the dose's start and end (``dose_service.py``), the
administration record (``administration_service.py``), the product and other medications
(``medication_service.py``), vital signs and alerts (``vitals_service.py``), dissociation,
side effects and adverse events (``observation_service.py``), discharge
(``discharge_service.py``) and entries marked in error (``in_error_service.py``).

Every write there is a service named ``<noun>_<verb>`` run through :func:`write_locked`: it
locks the session row, validates against the session's current state, writes, and audits,
in one transaction. Bad input raises ``ValidationError`` with a message per field (422),
leaves an ``invalid`` audit row and stores nothing. Clinical rows are never edited; a wrong
one is marked ``entered-in-error`` and kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.plans.models import PlanStatus
from ketaclinic.protocols import dosing
from ketaclinic.protocols.catalog import catalog, get_protocol
from ketaclinic.scheduling import services as scheduling_services
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import vitals
from .models import ACTIVE, SESSION_TRANSITIONS, RecordStatus, SessionStatus, TreatmentSession

DRUG_OF_ROUTE = {"esketamine": "esketamine"}
ROUTE_WORDS = {"iv": "IV infusion", "im": "IM injection", "esketamine": "nasal spray"}
#: Statuses once dosing has started and before discharge.
AFTER_START = (SessionStatus.DOSING, SessionStatus.OBSERVATION)

Written = TypeVar("Written")


# ---------------------------------------------------------------- opening a session


class ChairBusy(Exception):
    """The visit's chair still holds another running session (HTTP 409).

    One running session per chair is a database constraint (a chair's bedside monitor
    writes to the session running in it); this names the session in the way so the
    clinician can discharge it, close it, or seat the patient elsewhere.
    """

    def __init__(self, chair, other: TreatmentSession) -> None:
        opened = timezone.localtime(other.opened_at)
        self.chair = chair
        self.other = other
        self.message = (
            f"{chair.name} still holds a running session: {initials(other.patient)} "
            f"(MRN {other.patient.mrn}), opened {opened:%d %b %Y %H:%M}, "
            f"{other.get_status_display().lower()}. Discharge or close that session, or "
            "seat this patient in another chair, before opening this one."
        )
        super().__init__(self.message)


def initials(patient) -> str:
    """A patient named in someone else's chart: initials only, with the MRN beside them."""
    return (
        ".".join(part[:1].upper() for part in (patient.given_name, patient.family_name) if part)
        + "."
    )


def running_in_chair(
    chair_id: int | None, *, besides: int | None = None
) -> TreatmentSession | None:
    """The session still running in this chair, if any (a chairless visit blocks nothing)."""
    if chair_id is None:
        return None
    running = TreatmentSession.objects.filter(chair_id=chair_id, status__in=ACTIVE)
    if besides is not None:
        running = running.exclude(appointment_id=besides)
    return running.select_related("patient").order_by("opened_at").first()


def refuse_busy_chair(request, appointment, other: TreatmentSession) -> ChairBusy:
    """Audit the refusal (outcome refused) and give the 409 to raise."""
    busy = ChairBusy(appointment.chair, other)
    trail.record(
        action="session.open",
        request=request,
        patient_id=appointment.patient_id,
        outcome=Outcome.REFUSED,
        detail={
            "appointment": appointment.pk,
            "chair": appointment.chair_id,
            "running_session": other.pk,
            "reason": "chair holds another running session",
        },
    )
    return busy


def session_open(*, request, appointment) -> TreatmentSession:
    """Open the session of a checked-in treatment visit from the patient's active plan.

    Raises ``ValidationError`` (422) for what the visit or plan lacks and ``ChairBusy``
    (409, audited as refused) while the chair still holds another running session, also
    when a concurrent open wins the race to the chair and the database constraint fires.
    """
    if appointment.status not in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_SESSION):
        raise ValidationError({"appointment": "Check the patient in before opening the session."})
    if hasattr(appointment, "treatment_session"):
        return appointment.treatment_session
    plan = _plan_for_visit(appointment)
    other = running_in_chair(appointment.chair_id)
    if other is not None:
        raise refuse_busy_chair(request, appointment, other)
    number = appointment.course_number or plan.treatment_sessions.count() + 1
    dose = plan.dose_for_session(number)
    try:
        return _create_session(request, appointment, plan, number, dose)
    except IntegrityError:
        # A concurrent open got there first: the same visit (answer with its session) or
        # another visit in this chair (the one-running-session-per-chair constraint).
        existing = TreatmentSession.objects.filter(appointment_id=appointment.pk).first()
        if existing is not None:
            return existing
        other = running_in_chair(appointment.chair_id, besides=appointment.pk)
        if other is not None:
            raise refuse_busy_chair(request, appointment, other) from None
        raise


def _plan_for_visit(appointment):
    """The patient's active plan, of the route this kind of visit treats."""
    plan = (
        appointment.patient.plans.filter(status=PlanStatus.ACTIVE)
        .select_related("protocol")
        .first()
    )
    if plan is None:
        raise ValidationError({"plan": "The patient has no active, signed treatment plan."})
    visit_code = appointment.type.protocol_code
    if visit_code and get_protocol(visit_code).route != plan.route:
        raise ValidationError(
            {"plan": f"The active plan is for {plan.route}, not this {appointment.type.name}."}
        )
    return plan


def _create_session(request, appointment, plan, number: int, dose) -> TreatmentSession:
    with transaction.atomic():
        session = TreatmentSession.objects.create(
            patient=appointment.patient,
            plan=plan,
            appointment=appointment,
            chair=appointment.chair,
            session_number=number,
            route=plan.route,
            protocol_code=plan.protocol.code,
            drug=DRUG_OF_ROUTE.get(plan.route, "racemic ketamine"),
            planned_dose_mg=dose.dose_mg,
            planned_rate_mg_per_min=planned_rate(dose.dose_mg, plan.infusion_minutes),
            planned_minutes=plan.infusion_minutes,
            nurse=appointment.staff if appointment.staff_id else request.user,
        )
        trail.record(
            action="session.open",
            request=request,
            patient_id=session.patient_id,
            target=session,
            detail={"appointment": appointment.pk, "planned_dose_mg": str(dose.dose_mg)},
        )
    return session


def planned_rate(dose_mg: Decimal, minutes: int | None) -> Decimal | None:
    """The infusion rate for the dose in effect (amendments included), as dosing rounds it."""
    if not minutes:
        return None
    increment = catalog().dosing_policy.rate_increment_mg_per_min
    return dosing.round_to_increment(dose_mg / Decimal(minutes), increment)


# ---------------------------------------------------------------- moving a session along


def session_transition(*, request, session: TreatmentSession, to: str, **stamps) -> None:
    """Move the session along its status table; ``stamps`` set the matching times."""
    if to not in SESSION_TRANSITIONS[session.status]:
        raise ValidationError(
            {"status": f"A session in {session.get_status_display().lower()} cannot become {to}."}
        )
    previous = session.status
    session.status = to
    for name, value in stamps.items():
        setattr(session, name, value)
    with transaction.atomic():
        session.save(update_fields=["status", *stamps])
        trail.record(
            action=f"session.{to}",
            request=request,
            patient_id=session.patient_id,
            target=session,
            detail={"status": [previous, to]},
        )


def open_session_holds_visit(appointment) -> str | None:
    """A visit whose session was charted stays checked in: the chart hangs on the visit.

    A session marked not started or entered in error no longer holds it. Registered with
    scheduling (``scheduling.holds``), which refuses undoing the check-in or cancelling.
    """
    session = (
        TreatmentSession.objects.filter(appointment_id=appointment.pk)
        .exclude(status__in=(SessionStatus.NOT_STARTED, SessionStatus.ENTERED_IN_ERROR))
        .only("status")
        .first()
    )
    if session is None:
        return None
    return (
        f"Its treatment session is already open ({session.get_status_display().lower()}): "
        "end it as not started, or mark it entered in error, before undoing the check-in "
        "or cancelling the visit."
    )


def end_dose(request, session: TreatmentSession, moment: dt.datetime) -> None:
    """Dosing is over at ``moment``: observation begins."""
    session_transition(
        request=request, session=session, to=SessionStatus.OBSERVATION, dose_ended_at=moment
    )


def advance_appointment(request, session: TreatmentSession, to: str) -> None:
    """Move the session's visit along with it (in session, completed), when it may."""
    appointment = session.appointment
    if appointment is not None and appointment.may_become(to):
        scheduling_services.appointment_transition(request=request, appointment=appointment, to=to)


# ---------------------------------------------------------------- what every write shares


def now() -> dt.datetime:
    return timezone.now()


def local_time(moment: dt.datetime | None) -> str:
    return "" if moment is None else f"{timezone.localtime(moment):%H:%M}"


def session_day(session: TreatmentSession) -> dt.date:
    return timezone.localdate(session.opened_at)


def name_of(user) -> str:
    return user.display_name if user is not None else ""


def number_text(value: Decimal, places: str = "0.01") -> str:
    """A computed amount as a clinician reads it: rounded to ``places``, no trailing zeros."""
    return vitals.format_number(value.quantize(Decimal(places)))


def final(rows: Iterable) -> list:
    """The rows that count: everything not entered in error."""
    return [row for row in rows if row.status == RecordStatus.FINAL]


def minute_of(session: TreatmentSession, at: dt.datetime) -> Decimal:
    """Minutes from opening the session: the timeline of vitals, alerts and discharge.

    Kept to 0.01 min (0.6 s): finer than any rule's timing, and findings stay readable.
    """
    return vitals.minute_from(at, session.opened_at).quantize(Decimal("0.01"))


def dose_minute(session: TreatmentSession, moment: dt.datetime) -> Decimal:
    """Minutes from the start of dosing: the timeline of the administration record."""
    return vitals.minute_from(moment, session.dose_started_at)


def lock(session: TreatmentSession) -> TreatmentSession:
    """The session row, locked for this transaction (one writer per session at a time)."""
    return (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan__protocol", "patient", "appointment")
        .get(pk=session.pk)
    )


def write_locked(
    request,
    session: TreatmentSession,
    action: str,
    write: Callable[[TreatmentSession], Written],
) -> Written:
    """Run ``write`` on the locked session in one transaction; audit a refusal after rollback."""
    try:
        with transaction.atomic():
            result = write(lock(session))
    except ValidationError as error:
        trail.reject(request, action, error, session.patient_id)
    except IntegrityError as error:
        # A database constraint caught what the checks above let through: still a refusal.
        problem = ValidationError({"__all__": f"The record refused this entry: {error}"})
        trail.reject(request, action, problem, session.patient_id)
    session.refresh_from_db()
    return result


def require(condition: bool, field: str, message: str) -> None:
    """Refuse the write with ``message`` on ``field`` unless ``condition`` holds."""
    if not condition:
        raise ValidationError({field: message})


def require_status(session: TreatmentSession, allowed: Sequence[str], doing: str) -> None:
    """Refuse ``doing`` unless the session is in one of the ``allowed`` statuses."""
    if session.status not in allowed:
        raise ValidationError(
            {"status": f"Cannot {doing}: the session is {session.get_status_display().lower()}."}
        )


def entry_time(
    session: TreatmentSession,
    at: dt.datetime | None,
    *,
    not_before: dt.datetime | None = None,
    not_before_what: str = "",
) -> dt.datetime:
    """When an entry happened: now when not given; never in the future or before opening."""
    moment = at or now()
    if timezone.is_naive(moment):
        raise ValidationError({"at": "A time needs its time zone."})
    if moment > now():
        raise ValidationError({"at": f"{local_time(moment)} is in the future."})
    if moment < session.opened_at:
        raise ValidationError(
            {
                "at": f"{local_time(moment)} is before the session opened at "
                f"{local_time(session.opened_at)}."
            }
        )
    if not_before is not None and moment < not_before:
        raise ValidationError(
            {"at": f"{local_time(moment)} is before {not_before_what} at {local_time(not_before)}."}
        )
    return moment


def audit(request, verb: str, session: TreatmentSession, target=None, **detail: Any) -> None:
    """One audit row for a session write, naming the session and what was written."""
    trail.record(
        action=verb,
        request=request,
        patient_id=session.patient_id,
        target=target if target is not None else session,
        detail={"session": session.pk, **detail},
    )
