"""Session writes that span models: opening a session, recording vitals, alerts.

Vitals are checked against the clinic's plausibility limits before they are stored (an
implausible reading is refused with the reason), and every stored reading is run through
the clinic's vital-sign policy (``safety.py``); a rule newly met by that reading raises a
``SafetyAlert`` unless the same alert is already open.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.plans.models import PlanStatus
from ketaclinic.protocols.catalog import get_protocol
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import policy, safety, vitals
from .models import (
    ACTIVE,
    SESSION_TRANSITIONS,
    RecordStatus,
    SafetyAlert,
    TreatmentSession,
    VitalReading,
)

DRUG_OF_ROUTE = {"esketamine": "esketamine"}


def clinic_policy() -> safety.VitalSignPolicy:
    """The vital-sign policy in force: the clinic's newest signed version (``policy.py``)."""
    return policy.in_force()


def clinic_limits() -> vitals.PlausibilityLimits:
    return vitals.DEFAULT_LIMITS


# ---------------------------------------------------------------- sessions


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
    return (dose_mg / Decimal(minutes)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


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


# ---------------------------------------------------------------- vitals and alerts

MEASUREMENTS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_pct",
    "resp_rate_per_min",
    "temperature_c",
)


@dataclass(frozen=True)
class NewReading:
    """A reading to record: when it was taken and what it measured."""

    at: dt.datetime
    values: dict


def minute_of(session: TreatmentSession, at: dt.datetime) -> Decimal:
    """Minutes from opening the session: only differences matter to the policy.

    Kept to 0.01 min (0.6 s): finer than any rule's timing, and findings stay readable.
    """
    return vitals.minute_from(at, session.opened_at).quantize(Decimal("0.01"))


def to_pure(session: TreatmentSession, row: VitalReading) -> vitals.VitalReading:
    values = {name: getattr(row, name) for name in MEASUREMENTS if getattr(row, name) is not None}
    return vitals.VitalReading(minute=minute_of(session, row.at), **values)


def check_reading(session: TreatmentSession, new: NewReading) -> vitals.VitalReading:
    """The reading as the policy sees it; ImplausibleReading names the field and the rule."""
    unknown = set(new.values) - set(MEASUREMENTS)
    if unknown:
        name = sorted(unknown)[0]
        raise vitals.ImplausibleReading(name, f"{name} is not a vital sign this chart records")
    measured = {k: v for k, v in new.values.items() if v is not None}
    if not measured:
        raise vitals.ImplausibleReading("reading", "a reading must measure at least one vital sign")
    reading = vitals.VitalReading(minute=minute_of(session, new.at), **measured)
    vitals.validate_reading(reading, clinic_limits())
    return reading


def lookback_minutes(policy: safety.VitalSignPolicy) -> Decimal:
    return max(
        (rule.sustained.for_minutes for rule in policy.rules if rule.sustained), default=Decimal(0)
    )


def vitals_record(
    *,
    session: TreatmentSession,
    readings: Sequence[NewReading],
    source: str,
    recorded_by=None,
    device=None,
    request=None,
) -> tuple[list[VitalReading], list[SafetyAlert]]:
    """Store readings (already checked with ``check_reading``) and raise the alerts they meet."""
    policy = clinic_policy()
    with transaction.atomic(savepoint=False):  # all or nothing, inside the caller's if any
        rows = VitalReading.objects.bulk_create(
            [
                VitalReading(  # by id: setting related objects costs time on every row
                    session_id=session.pk,
                    at=new.at,
                    source=source,
                    device_id=getattr(device, "pk", None),
                    recorded_by_id=getattr(recorded_by, "pk", None),
                    **{k: v for k, v in new.values.items() if v is not None},
                )
                for new in readings
            ]
        )
        alerts = raise_alerts(session, rows, policy)
        trail.record(
            action="session.vitals",
            request=request,
            actor=recorded_by,
            actor_username="" if recorded_by else f"device:{getattr(device, 'pk', '')}",
            patient_id=session.patient_id,
            target=session,
            detail={"readings": len(rows), "source": source, "alerts": [a.code for a in alerts]},
        )
    return rows, alerts


COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def raise_alerts(
    session: TreatmentSession, new_rows: Sequence[VitalReading], policy: safety.VitalSignPolicy
) -> list[SafetyAlert]:
    """Alerts each new reading newly meets, judged on the history up to that reading.

    Every rule fires on the newest reading that measures its fields (a sustained rule on its
    base threshold there), so a reading that meets no threshold condition raises nothing at
    its own minute: only the readings that meet one are judged, and only the history they
    can look at is read (from the newest reading at or before the earliest of them minus
    the longest sustained window, up to the latest of them). An unremarkable batch costs no
    query at all.
    """
    conditions = [(c.field, COMPARE[c.op], c.value) for rule in policy.rules for c in rule.when_any]
    judged = [
        row
        for row in new_rows
        if any(
            (value := getattr(row, field)) is not None and compare(value, threshold)
            for field, compare, threshold in conditions
        )
    ]
    if not judged:
        return []
    window = lookback_minutes(policy)
    horizon = min(row.at for row in judged) - dt.timedelta(microseconds=int(window * 60_000_000))
    final = VitalReading.objects.filter(session=session, status=RecordStatus.FINAL)
    anchor = final.filter(at__lte=horizon).order_by("-at").values_list("at", flat=True).first()
    history = list(
        final.filter(
            at__gte=horizon if anchor is None else anchor, at__lte=max(row.at for row in judged)
        )
        .order_by("at", "id")
        .only("id", "session_id", "at", *MEASUREMENTS)
    )
    pure = [to_pure(session, row) for row in history]
    minutes = [reading.minute for reading in pure]
    position = {row.pk: index for index, row in enumerate(history)}
    open_codes = set(
        session.alerts.filter(acknowledged_at__isnull=True).values_list("code", flat=True)
    )
    raised: list[SafetyAlert] = []
    for row in sorted(judged, key=lambda r: (r.at, r.pk)):
        index = position[row.pk]
        # The run a sustained rule looks at starts at the newest reading >= window earlier.
        start = max(0, bisect.bisect_right(minutes, minutes[index] - window) - 1)
        for alert in safety.evaluate(pure[start : index + 1], policy, clinic_limits()):
            if alert.minute != pure[index].minute or alert.code in open_codes:
                continue
            open_codes.add(alert.code)
            raised.append(
                SafetyAlert(
                    session=session,
                    reading=row,
                    code=alert.code,
                    level=alert.level,
                    action=alert.action,
                    basis=alert.basis,
                    finding=alert.finding[:300],
                    raised_at=row.at,
                )
            )
    return SafetyAlert.objects.bulk_create(raised)


def alert_acknowledge(*, request, alert: SafetyAlert, action_taken: str) -> None:
    """A named clinician acknowledges an alert and says what was done."""
    action_taken = action_taken.strip()
    if not action_taken:
        raise ValidationError({"action_taken": "Say what was done about the alert."})
    if not alert.is_open:
        raise ValidationError({"alert": "This alert was already acknowledged."})
    with transaction.atomic():
        alert.acknowledged_by = request.user
        alert.acknowledged_at = timezone.now()
        alert.action_taken = action_taken[:300]
        alert.save(update_fields=["acknowledged_by", "acknowledged_at", "action_taken"])
        trail.record(
            action="session.alert_acknowledged",
            request=request,
            patient_id=alert.session.patient_id,
            target=alert,
            detail={"code": alert.code, "action_taken": alert.action_taken},
        )
