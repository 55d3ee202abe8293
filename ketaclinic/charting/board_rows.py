"""The rows of the live treatment-floor board, from plain data: pure, no database.

A running session's row shows who is in the chair (initials and MRN, not the full name: the
board is on a wall), how long the session has run, the infusion as the latest administration
event left it, the newest value of each vital sign with its own age (a temperature taken an
hour ago is not "just now"), open alerts (critical first) and the monitoring checks that are
due or overdue (``monitoring.monitoring_checks``). A waiting row shows a patient checked in
for a treatment visit whose session is not open yet: the chair, the visit's time and how
long they have waited.

:func:`board_rows` and :func:`waiting_rows` build the rows from :class:`SessionFacts` and
:class:`WaitingFacts`, read by ``board_floor.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from . import alert_rules, monitoring, vitals
from .data_files import PolicyError

#: Vitals older than this are shown as stale: the monitor may be off or disconnected.
STALE_AFTER = dt.timedelta(minutes=15)
#: A value this much older than the newest reading shows its own age.
CARRIED_AFTER = dt.timedelta(minutes=1)
ROUTE_LABELS = {"iv": "IV", "im": "IM", "esketamine": "Esketamine"}
STATUS_LABELS = {"checklist": "Checklist", "dosing": "Dosing", "observation": "Observation"}
#: How the board abbreviates each sign (label, unit after the value), in the chart's order.
SIGN_LABELS = {
    "heart_rate_bpm": ("HR", ""),
    "spo2_pct": ("SpO₂", "%"),
    "resp_rate_per_min": ("RR", ""),
    "temperature_c": ("Temp", " °C"),
}
BLOOD_PRESSURE = ("systolic_mmhg", "diastolic_mmhg")


# ---------------------------------------------------------------- plain data in


@dataclass(frozen=True)
class SessionFacts:
    """What the board needs to know about one running session."""

    session_id: int
    chair: str | None
    room: str | None
    given_name: str
    family_name: str
    mrn: str
    route: str
    status: str
    opened_at: dt.datetime
    dose_started_at: dt.datetime | None = None
    dose_ended_at: dt.datetime | None = None
    #: (kind, rate_mg_per_min or None), oldest first.
    infusion_events: tuple[tuple[str, Decimal | None], ...] = ()
    #: (taken at, {field: value}) with only measured fields, oldest first.
    readings: tuple[tuple[dt.datetime, dict], ...] = ()
    #: (code, level, action, finding, raised_at) of unacknowledged alerts.
    open_alerts: tuple[tuple[str, str, str, str, dt.datetime], ...] = ()
    #: The newest final value of each measurement with its own time, {field: (value, at)},
    #: read by the database (empty: no reading yet); when None it is worked out from
    #: ``readings``, which then holds every reading.
    latest: Mapping[str, tuple[Any, dt.datetime]] | None = None


@dataclass(frozen=True)
class WaitingFacts:
    """A patient checked in for a treatment visit whose session is not open yet."""

    appointment_id: int
    chair: str | None
    room: str | None
    given_name: str
    family_name: str
    mrn: str
    visit: str
    starts_at: dt.datetime
    checked_in_at: dt.datetime | None


# ---------------------------------------------------------------- rows out


@dataclass(frozen=True)
class Infusion:
    state: str  # "running", "paused", "stopped", "not started", "none"
    rate_mg_per_min: Decimal | None = None

    @property
    def text(self) -> str:
        rate = (
            f"{vitals.format_number(self.rate_mg_per_min)} mg/min" if self.rate_mg_per_min else ""
        )
        if self.state == "running":
            return rate or "running"
        if self.state == "paused":
            return f"paused (was {rate})" if rate else "paused"
        return {"stopped": "stopped", "not started": "not started"}.get(self.state, "—")


@dataclass(frozen=True)
class VitalValue:
    """One sign as the board shows it, with its own age."""

    label: str
    value: str
    unit: str
    age_minutes: int
    carried: bool  # older than the newest reading: its age is shown next to it
    stale: bool


@dataclass(frozen=True)
class LastVitals:
    values: dict  # latest value of each measurement
    age_minutes: int  # of the newest reading
    bp_age_minutes: int | None  # of the newest blood pressure, when older than the rest
    stale: bool
    items: tuple[VitalValue, ...] = ()

    @property
    def bp(self) -> str | None:
        s, d = self.values.get("systolic_mmhg"), self.values.get("diastolic_mmhg")
        if s is None and d is None:
            return None
        return f"{s if s is not None else '–'}/{d if d is not None else '–'}"


@dataclass(frozen=True)
class OpenAlert:
    code: str
    level: str
    action: str
    finding: str
    raised_at: dt.datetime
    age_minutes: int

    @property
    def label(self) -> str:
        """The rule's label, e.g. ``Blood pressure high, sustained``."""
        return alert_rules.label_of(self.code)

    @property
    def finding_text(self) -> str:
        """The values and limits, e.g. ``186/112 mmHg (limit 180/110)``."""
        return self.finding


@dataclass(frozen=True)
class CheckDue:
    """Checks of one kind in one state: ``count`` of them, the earliest due at ``due_at``."""

    label: str
    status: str  # "overdue", "due" or "upcoming"
    due_at: dt.datetime
    count: int = 1


@dataclass(frozen=True)
class BoardRow:
    session_id: int
    chair: str
    room: str
    patient: str  # initials
    mrn: str
    route: str
    status: str
    elapsed_minutes: int
    dose_minutes: int | None
    infusion: Infusion
    last_vitals: LastVitals | None
    alerts: tuple[OpenAlert, ...]
    checks: tuple[CheckDue, ...]
    next_check: CheckDue | None
    checks_note: str
    level: str = field(default="ok")  # "critical", "warning" or "ok": the row's colour

    @property
    def url(self) -> str:
        return f"/sessions/{self.session_id}/"

    @property
    def elapsed_text(self) -> str:
        return duration_text(self.elapsed_minutes)

    @property
    def dose_text(self) -> str:
        return duration_text(self.dose_minutes or 0)


@dataclass(frozen=True)
class WaitingRow:
    appointment_id: int
    chair: str
    room: str
    patient: str  # initials
    mrn: str
    visit: str
    starts_at: dt.datetime
    waited_minutes: int | None  # since check-in; None when the check-in time is not known

    @property
    def waited_text(self) -> str:
        return "" if self.waited_minutes is None else duration_text(self.waited_minutes)


def duration_text(minutes: int) -> str:
    """``7 min``, ``1 h 05 min``."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def initials(given: str, family: str) -> str:
    return "".join(f"{part[0].upper()}." for part in (given, family) if part)


def whole_minutes(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def infusion_of(events: Sequence[tuple[str, Decimal | None]], route: str) -> Infusion:
    """The infusion as the latest event left it; a resume without a rate keeps the last one."""
    if not events:
        return Infusion("not started" if route == "iv" else "none")
    state, rate = "not started", None
    for kind, new_rate in events:
        if kind in ("start", "rate_change", "resume"):
            state, rate = "running", new_rate or rate
        elif kind == "pause":
            state = "paused"
        elif kind == "stop":
            state = "stopped"
    return Infusion(state, rate)


# ---------------------------------------------------------------- vital signs


def latest_of(
    readings: Sequence[tuple[dt.datetime, dict]],
) -> dict[str, tuple[Any, dt.datetime]]:
    """The newest value of each measurement with its time, from readings oldest first."""
    latest: dict[str, tuple[Any, dt.datetime]] = {}
    for at, values in readings:
        latest.update({name: (value, at) for name, value in values.items()})
    return latest


def _number(value: Any) -> str:
    # A database's decimal may come back as 37.4000000000000: shown as charted, 37.4.
    return vitals.format_number(value) if isinstance(value, Decimal) else str(value)


def _value(
    label: str, text: str, unit: str, at: dt.datetime, newest: dt.datetime, now: dt.datetime
) -> VitalValue:
    return VitalValue(
        label,
        text,
        unit,
        whole_minutes(now - at),
        newest - at >= CARRIED_AFTER,
        now - at > STALE_AFTER,
    )


def vital_values(
    latest: Mapping[str, tuple[Any, dt.datetime]], newest: dt.datetime, now: dt.datetime
) -> tuple[VitalValue, ...]:
    """Blood pressure first, then each other sign measured, each with its own age."""
    items = []
    pressures = [latest[name] for name in BLOOD_PRESSURE if name in latest]
    if pressures:
        s, d = (latest.get(name, ("–", None))[0] for name in BLOOD_PRESSURE)
        items.append(_value("BP", f"{s}/{d}", "", max(at for _, at in pressures), newest, now))
    for name, (label, unit) in SIGN_LABELS.items():
        if name in latest:
            value, at = latest[name]
            items.append(_value(label, _number(value), unit, at, newest, now))
    return tuple(items)


def last_vitals_of(
    readings: Sequence[tuple[dt.datetime, dict]],
    now: dt.datetime,
    known: Mapping[str, tuple[Any, dt.datetime]] | None = None,
) -> LastVitals | None:
    """The newest value of each measurement and its age; ``known`` is that summary when the
    database has already made it (``SessionFacts.latest``)."""
    latest = latest_of(readings) if known is None else known
    if not latest:
        return None
    newest = max(at for _, at in latest.values())
    bp_times = [latest[name][1] for name in BLOOD_PRESSURE if name in latest]
    bp_age = None
    if bp_times and newest - max(bp_times) >= CARRIED_AFTER:
        bp_age = whole_minutes(now - max(bp_times))
    return LastVitals(
        {name: value for name, (value, _) in latest.items()},
        whole_minutes(now - newest),
        bp_age,
        now - newest > STALE_AFTER,
        vital_values(latest, newest, now),
    )


# ---------------------------------------------------------------- monitoring checks


def _placed_checks(
    facts: SessionFacts,
    now: dt.datetime,
    schedule: monitoring.MonitoringSchedule,
    policy: monitoring.MonitoringPolicy,
) -> list[monitoring.ScheduledCheck]:
    # Only a reading that measures everything some check requires can satisfy a check.
    requirements = {check.requires for check in schedule.checks}

    def minute(at: dt.datetime) -> Decimal:
        return vitals.minute_from(at, facts.opened_at)

    readings = [
        vitals.VitalReading(minute=minute(at), **values)
        for at, values in facts.readings
        if any(all(name in values for name in needed) for needed in requirements)
    ]
    return monitoring.monitoring_checks(
        facts.route,
        dose_start_minute=minute(facts.dose_started_at),
        dose_end_minute=None if facts.dose_ended_at is None else minute(facts.dose_ended_at),
        now_minute=minute(now),
        readings=readings,
        policy=policy,
    )


def checks_of(
    facts: SessionFacts, now: dt.datetime, policy: monitoring.MonitoringPolicy
) -> tuple[list[CheckDue], CheckDue | None, str]:
    """Due and overdue checks (overdue first), the next upcoming one, or why there are none."""
    if facts.dose_started_at is None:
        return [], None, "checks start with dosing"
    try:
        schedule = policy.for_route(facts.route)
    except PolicyError:
        return [], None, f"no monitoring schedule for {ROUTE_LABELS.get(facts.route, facts.route)}"
    placed = _placed_checks(facts, now, schedule, policy)

    def at_minute(value: Decimal) -> dt.datetime:
        return facts.opened_at + dt.timedelta(minutes=float(value))

    grouped: dict[tuple[str, str], CheckDue] = {}
    for check in sorted(placed, key=lambda c: (c.status != "overdue", c.due_minute or 0)):
        if check.status not in ("due", "overdue"):
            continue
        key = (check.status, check.label)
        if key in grouped:
            grouped[key] = replace(grouped[key], count=grouped[key].count + 1)
        else:
            grouped[key] = CheckDue(check.label, check.status, at_minute(check.due_minute))
    upcoming = next(
        (c for c in placed if c.status == "upcoming" and c.due_minute is not None), None
    )
    following = (
        None
        if upcoming is None
        else CheckDue(upcoming.label, "upcoming", at_minute(upcoming.due_minute))
    )
    return list(grouped.values()), following, ""


# ---------------------------------------------------------------- rows


def _open_alerts(facts: SessionFacts, now: dt.datetime) -> tuple[OpenAlert, ...]:
    alerts = (
        OpenAlert(code, level, action, finding, raised, whole_minutes(now - raised))
        for code, level, action, finding, raised in facts.open_alerts
    )
    return tuple(sorted(alerts, key=lambda a: (a.level != "critical", -a.raised_at.timestamp())))


def _level(alerts: Sequence[OpenAlert], checks: Sequence[CheckDue]) -> str:
    if any(a.level == "critical" for a in alerts):
        return "critical"
    if alerts or any(c.status == "overdue" for c in checks):
        return "warning"
    return "ok"


def row_of(facts: SessionFacts, now: dt.datetime, policy: monitoring.MonitoringPolicy) -> BoardRow:
    alerts = _open_alerts(facts, now)
    checks, upcoming, note = checks_of(facts, now, policy)
    return BoardRow(
        session_id=facts.session_id,
        chair=facts.chair or "No chair",
        room=facts.room or "",
        patient=initials(facts.given_name, facts.family_name),
        mrn=facts.mrn,
        route=ROUTE_LABELS.get(facts.route, facts.route),
        status=STATUS_LABELS.get(facts.status, facts.status),
        elapsed_minutes=whole_minutes(now - facts.opened_at),
        dose_minutes=None
        if facts.dose_started_at is None
        else whole_minutes(now - facts.dose_started_at),
        infusion=infusion_of(facts.infusion_events, facts.route),
        last_vitals=last_vitals_of(facts.readings, now, facts.latest),
        alerts=alerts,
        checks=tuple(checks),
        next_check=upcoming,
        checks_note=note,
        level=_level(alerts, checks),
    )


def board_rows(
    sessions: Sequence[SessionFacts],
    now: dt.datetime,
    policy: monitoring.MonitoringPolicy = monitoring.DEFAULT_MONITORING,
) -> list[BoardRow]:
    """One row per session, in the order given (by chair); pure."""
    return [row_of(facts, now, policy) for facts in sessions]


def waiting_rows(waiting: Sequence[WaitingFacts], now: dt.datetime) -> list[WaitingRow]:
    """One row per patient checked in and waiting, in the order given (by visit time)."""
    return [
        WaitingRow(
            appointment_id=facts.appointment_id,
            chair=facts.chair or "No chair",
            room=facts.room or "",
            patient=initials(facts.given_name, facts.family_name),
            mrn=facts.mrn,
            visit=facts.visit,
            starts_at=facts.starts_at,
            waited_minutes=None
            if facts.checked_in_at is None
            else whole_minutes(now - facts.checked_in_at),
        )
        for facts in waiting
    ]
