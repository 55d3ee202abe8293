"""Vital signs and alerts: readings entered by hand or sent by a bedside monitor, and their alerts.

Readings are checked against the clinic's plausibility limits (``vitals.py``) before they are
stored: an implausible reading is refused with the reason. Every stored reading is run
through the clinic's vital-sign policy (``safety.py``); a rule newly met by that reading
raises a ``SafetyAlert`` unless the same alert is already open, and a named clinician
acknowledges it, saying what was done.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail

from . import policy, safety, vitals
from .models import ACTIVE, RecordStatus, SafetyAlert, TreatmentSession, VitalReading
from .session_service import (
    entry_time,
    minute_of,
    now,
    require,
    require_status,
    write_locked,
)


def clinic_policy() -> safety.VitalSignPolicy:
    """The vital-sign policy in force: the clinic's newest signed version (``policy.py``)."""
    return policy.in_force()


def clinic_limits() -> vitals.PlausibilityLimits:
    return vitals.DEFAULT_LIMITS


@dataclass(frozen=True)
class NewReading:
    """A reading to record: when it was taken and what it measured."""

    at: dt.datetime
    values: dict


def to_pure(session: TreatmentSession, row: VitalReading) -> vitals.VitalReading:
    """A stored reading as the pure modules see it, timed from opening the session."""
    values = {
        name: getattr(row, name)
        for name in vitals.MEASUREMENT_FIELDS
        if getattr(row, name) is not None
    }
    return vitals.VitalReading(minute=minute_of(session, row.at), **values)


def reading_text(row: VitalReading) -> str:
    """A reading as a nurse writes it: ``BP 126/80, HR 74, SpO2 98%, RR 14``."""
    parts = []
    if row.systolic_mmhg is not None and row.diastolic_mmhg is not None:
        parts.append(f"BP {row.systolic_mmhg}/{row.diastolic_mmhg}")
    if row.heart_rate_bpm is not None:
        parts.append(f"HR {row.heart_rate_bpm}")
    if row.spo2_pct is not None:
        parts.append(f"SpO2 {row.spo2_pct}%")
    if row.resp_rate_per_min is not None:
        parts.append(f"RR {row.resp_rate_per_min}")
    return ", ".join(parts)


def check_reading(session: TreatmentSession, new: NewReading) -> vitals.VitalReading:
    """The reading as the policy sees it; ImplausibleReading names the field and the rule."""
    unknown = set(new.values) - set(vitals.MEASUREMENT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise vitals.ImplausibleReading(name, f"{name} is not a vital sign this chart records")
    measured = {k: v for k, v in new.values.items() if v is not None}
    if not measured:
        raise vitals.ImplausibleReading("reading", "a reading must measure at least one vital sign")
    reading = vitals.VitalReading(minute=minute_of(session, new.at), **measured)
    vitals.validate_reading(reading, clinic_limits())
    return reading


def todays_blood_pressure(patient) -> VitalReading | None:
    """The latest final blood pressure charted for ``patient`` today (any session), or None.

    Registered with screening (``screening.blood_pressure``), which offers it on the form.
    """
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0)))
    return (
        VitalReading.objects.filter(
            session__patient=patient,
            status=RecordStatus.FINAL,
            at__gte=start,
            systolic_mmhg__isnull=False,
            diastolic_mmhg__isnull=False,
        )
        .order_by("-at")
        .only("at", "systolic_mmhg", "diastolic_mmhg")
        .first()
    )


# ---------------------------------------------------------------- storing readings


def vitals_enter(
    *, request, session: TreatmentSession, values: Mapping[str, Any], at: dt.datetime | None = None
) -> tuple[VitalReading, list[SafetyAlert]]:
    """A reading entered by hand: refused with the reason when implausible, else stored and
    run through the clinic's vital-sign policy (alerts appear at once)."""

    def write(locked: TreatmentSession):
        require_status(locked, ACTIVE, "chart vital signs")
        moment = entry_time(locked, at)
        new = NewReading(at=moment, values={k: v for k, v in values.items() if v is not None})
        try:
            check_reading(locked, new)
        except vitals.ImplausibleReading as problem:
            field = problem.field if problem.field in vitals.MEASUREMENT_FIELDS else "__all__"
            raise ValidationError({field: problem.message}) from None
        rows, alerts = vitals_record(
            session=locked,
            readings=[new],
            source="manual",
            recorded_by=request.user,
            request=request,
        )
        return rows[0], alerts

    return write_locked(request, session, "session.vitals", write)


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
    in_force = clinic_policy()
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
        alerts = raise_alerts(session, rows, in_force)
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


# ---------------------------------------------------------------- raising alerts


def lookback_minutes(vital_sign_policy: safety.VitalSignPolicy) -> Decimal:
    """The longest window a sustained rule looks back over."""
    return max(
        (rule.sustained.for_minutes for rule in vital_sign_policy.rules if rule.sustained),
        default=Decimal(0),
    )


def meets_a_threshold(row: VitalReading, vital_sign_policy: safety.VitalSignPolicy) -> bool:
    """Whether the reading meets any rule's threshold condition (only those can alert)."""
    return any(
        condition.holds_for(getattr(row, condition.field))
        for rule in vital_sign_policy.rules
        for condition in rule.when_any
    )


def raise_alerts(
    session: TreatmentSession,
    new_rows: Sequence[VitalReading],
    vital_sign_policy: safety.VitalSignPolicy,
) -> list[SafetyAlert]:
    """Alerts each new reading newly meets, judged on the history up to that reading.

    Every rule fires on the newest reading that measures its fields (a sustained rule on its
    base threshold there), so a reading that meets no threshold condition raises nothing at
    its own minute: only the readings that meet one are judged, and only the history they
    can look at is read (from the newest reading at or before the earliest of them minus
    the longest sustained window, up to the latest of them). An unremarkable batch costs no
    query at all.
    """
    judged = [row for row in new_rows if meets_a_threshold(row, vital_sign_policy)]
    if not judged:
        return []
    window = lookback_minutes(vital_sign_policy)
    history = history_before(session, judged, window)
    raised = newly_met(session, judged, history, vital_sign_policy, window)
    return SafetyAlert.objects.bulk_create(raised)


def history_before(
    session: TreatmentSession, judged: Sequence[VitalReading], window: Decimal
) -> list[VitalReading]:
    """The final readings the judged ones can look back on, oldest first."""
    horizon = min(row.at for row in judged) - dt.timedelta(microseconds=int(window * 60_000_000))
    final = VitalReading.objects.filter(session=session, status=RecordStatus.FINAL)
    anchor = final.filter(at__lte=horizon).order_by("-at").values_list("at", flat=True).first()
    return list(
        final.filter(
            at__gte=horizon if anchor is None else anchor, at__lte=max(row.at for row in judged)
        )
        .order_by("at", "id")
        .only("id", "session_id", "at", *vitals.MEASUREMENT_FIELDS)
    )


def newly_met(
    session: TreatmentSession,
    judged: Sequence[VitalReading],
    history: Sequence[VitalReading],
    vital_sign_policy: safety.VitalSignPolicy,
    window: Decimal,
) -> list[SafetyAlert]:
    """The alerts (unsaved) each judged reading raises at its own minute, unless already open."""
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
        run = pure[start : index + 1]
        # The advice fits the phase at the reading: nothing about an infusion already stopped.
        phase = session.phase_at(row.at)
        for alert in safety.evaluate(run, vital_sign_policy, clinic_limits(), phase=phase):
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
    return raised


# ---------------------------------------------------------------- acknowledging alerts


def alert_acknowledge(
    *, request, session: TreatmentSession, alert: SafetyAlert, action_taken: str
) -> SafetyAlert:
    """A named clinician acknowledges an alert of this session and says what was done."""
    action_taken = (action_taken or "").strip()

    def write(locked: TreatmentSession) -> SafetyAlert:
        require(alert.session_id == locked.pk, "alert", "No such alert in this session.")
        require(bool(action_taken), "action_taken", "Say what was done about the alert.")
        require(alert.is_open, "alert", "This alert was already acknowledged.")
        alert.acknowledged_by = request.user
        alert.acknowledged_at = now()
        alert.action_taken = action_taken[:300]
        alert.save(update_fields=["acknowledged_by", "acknowledged_at", "action_taken"])
        trail.record(
            action="session.alert_acknowledged",
            request=request,
            patient_id=locked.patient_id,
            target=alert,
            detail={"code": alert.code, "action_taken": alert.action_taken},
        )
        return alert

    return write_locked(request, session, "session.alert_acknowledged", write)
