"""The live treatment-floor board: every running session by chair, refreshed every 5 s.

Each row shows who is in the chair (initials and MRN, not the full name: the board is on a
wall), how long the session has run, the infusion as the latest administration event left
it, the newest vital signs and their age, open alerts (critical first) and the monitoring
checks that are due or overdue (``safety.monitoring_checks``).

:func:`board_rows` is pure: it builds the rows from :class:`SessionFacts`, plain data read by
:func:`floor_facts` in a fixed number of queries however many chairs are running (four:
sessions with patient and chair, then infusion events, vitals and open alerts of all of them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, OuterRef, Q, Subquery, Value
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent

from . import safety, vitals
from .models import InfusionEvent, RecordStatus, SafetyAlert, TreatmentSession, VitalReading

MEASUREMENTS = vitals.MEASUREMENT_FIELDS
#: Vitals older than this are shown as stale: the monitor may be off or disconnected.
STALE_AFTER = dt.timedelta(minutes=15)
ROUTE_LABELS = {"iv": "IV", "im": "IM", "esketamine": "Esketamine"}
#: How a finding's field names and operators read on the board.
FINDING_WORDS = {
    "systolic_mmhg": "systolic",
    "diastolic_mmhg": "diastolic",
    "heart_rate_bpm": "HR",
    "spo2_pct": "SpO₂",
    "resp_rate_per_min": "RR",
    "temperature_c": "temperature",
    ">=": "≥",
    "<=": "≤",
}
STATUS_LABELS = {"checklist": "Checklist", "dosing": "Dosing", "observation": "Observation"}


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
    #: The newest value of each measurement, with the times of the newest reading and of the
    #: newest blood pressure, read by the database (:func:`floor_facts`); when None they are
    #: worked out from ``readings``, which then holds every reading.
    latest: tuple[dict, dt.datetime, dt.datetime | None] | None = None


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
class LastVitals:
    values: dict  # latest value of each measurement
    age_minutes: int  # of the newest reading
    bp_age_minutes: int | None  # of the newest blood pressure, when older than the rest
    stale: bool

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
    def finding_text(self) -> str:
        """The finding, when it reads at a glance: a run "from minute 40 to minute 46" is
        counted from the session's opening, which means nothing on the floor (the session
        page has it)."""
        if "minute" in self.finding:
            return ""
        text = self.finding
        for raw, shown in FINDING_WORDS.items():
            text = text.replace(raw, shown)
        return text

    @property
    def label(self) -> str:
        """``bp_high_sustained`` as ``BP high sustained``."""
        text = " ".join("BP" if word == "bp" else word for word in self.code.split("_"))
        return text[:1].upper() + text[1:]


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


def last_vitals_of(readings: Sequence[tuple[dt.datetime, dict]], now: dt.datetime, known=None):
    """The newest value of each measurement and its age; ``known`` is that summary when the
    database has already made it (``SessionFacts.latest``)."""
    if known is not None:
        latest, newest, bp_at = known
    elif not readings:
        return None
    else:
        latest, bp_at = {}, None
        for at, values in readings:
            latest.update(values)
            if "systolic_mmhg" in values or "diastolic_mmhg" in values:
                bp_at = at
        newest = readings[-1][0]
    bp_age = None
    if bp_at is not None and newest - bp_at >= dt.timedelta(minutes=1):
        bp_age = whole_minutes(now - bp_at)
    return LastVitals(latest, whole_minutes(now - newest), bp_age, now - newest > STALE_AFTER)


def checks_of(
    facts: SessionFacts, now: dt.datetime, policy: safety.MonitoringPolicy
) -> tuple[list[CheckDue], CheckDue | None, str]:
    """Due and overdue checks (overdue first), the next upcoming one, or why there are none."""
    if facts.dose_started_at is None:
        return [], None, "checks start with dosing"
    try:
        schedule = policy.for_route(facts.route)
    except safety.PolicyError:
        return [], None, f"no monitoring schedule for {ROUTE_LABELS.get(facts.route, facts.route)}"
    # Only a reading that measures everything some check requires can satisfy a check.
    requirements = {check.requires for check in schedule.checks}
    start = facts.opened_at

    def minute(at: dt.datetime) -> Decimal:
        return vitals.minute_from(at, start)

    readings = [
        vitals.VitalReading(minute=minute(at), **values)
        for at, values in facts.readings
        if any(all(name in values for name in needed) for needed in requirements)
    ]
    placed = safety.monitoring_checks(
        facts.route,
        dose_start_minute=minute(facts.dose_started_at),
        dose_end_minute=None if facts.dose_ended_at is None else minute(facts.dose_ended_at),
        now_minute=minute(now),
        readings=readings,
        policy=policy,
    )

    def at_minute(value: Decimal) -> dt.datetime:
        return start + dt.timedelta(minutes=float(value))

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


def row_of(facts: SessionFacts, now: dt.datetime, policy: safety.MonitoringPolicy) -> BoardRow:
    alerts = tuple(
        sorted(
            (
                OpenAlert(code, level, action, finding, raised, whole_minutes(now - raised))
                for code, level, action, finding, raised in facts.open_alerts
            ),
            key=lambda a: (a.level != "critical", -a.raised_at.timestamp()),
        )
    )
    checks, upcoming, note = checks_of(facts, now, policy)
    overdue = any(c.status == "overdue" for c in checks)
    if any(a.level == "critical" for a in alerts):
        level = "critical"
    elif alerts or overdue:
        level = "warning"
    else:
        level = "ok"
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
        level=level,
    )


def board_rows(
    sessions: Sequence[SessionFacts],
    now: dt.datetime,
    policy: safety.MonitoringPolicy = safety.DEFAULT_MONITORING,
) -> list[BoardRow]:
    """One row per session, in the order given (by chair); pure."""
    return [row_of(facts, now, policy) for facts in sessions]


# ---------------------------------------------------------------- reading the floor


def floor_facts() -> list[SessionFacts]:
    """Every running session by room and chair (chairless last), in four queries."""
    sessions = list(
        TreatmentSession.objects.active()
        .select_related("patient", "chair__room")
        .only(
            "route",
            "status",
            "opened_at",
            "dose_started_at",
            "dose_ended_at",
            "patient__given_name",
            "patient__family_name",
            "patient__mrn",
            "chair__name",
            "chair__room__name",
        )
        .order_by("chair__room__name", "chair__name", "opened_at", "id")
    )
    sessions.sort(key=lambda s: s.chair_id is None)
    ids = [s.pk for s in sessions]
    if not ids:
        return []
    events = defaultdict(list)
    for session_id, kind, rate in (
        InfusionEvent.objects.filter(session_id__in=ids, status=RecordStatus.FINAL)
        .order_by("at", "id")
        .values_list("session_id", "kind", "rate_mg_per_min")
    ):
        events[session_id].append((kind, rate))
    # A monitor at 1 Hz writes 7,200 readings in two hours: the rows must not cost more as a
    # session grows. Only readings that can satisfy a monitoring check (checks_of ignores the
    # rest) come back as rows (a few an hour); the newest value of each measurement is
    # found by the database, newest first along the (session, at) index.
    readings = defaultdict(list)
    for session_id, at, *values in (
        VitalReading.objects.filter(session_id__in=ids, status=RecordStatus.FINAL)
        .filter(can_satisfy_a_check())
        .order_by("at", "id")
        .values_list("session_id", "at", *MEASUREMENTS)
    ):
        measured = {n: v for n, v in zip(MEASUREMENTS, values, strict=True) if v is not None}
        readings[session_id].append((at, measured))
    latest = newest_values(ids)
    alerts = defaultdict(list)
    for session_id, *alert in SafetyAlert.objects.filter(
        session_id__in=ids, acknowledged_at__isnull=True
    ).values_list("session_id", "code", "level", "action", "finding", "raised_at"):
        alerts[session_id].append(tuple(alert))
    return [
        SessionFacts(
            session_id=s.pk,
            chair=s.chair.name if s.chair_id else None,
            room=s.chair.room.name if s.chair_id else None,
            given_name=s.patient.given_name,
            family_name=s.patient.family_name,
            mrn=s.patient.mrn,
            route=s.route,
            status=s.status,
            opened_at=s.opened_at,
            dose_started_at=s.dose_started_at,
            dose_ended_at=s.dose_ended_at,
            infusion_events=tuple(events[s.pk]),
            readings=tuple(readings[s.pk]),
            open_alerts=tuple(alerts[s.pk]),
            latest=latest.get(s.pk, NO_READINGS),
        )
        for s in sessions
    ]


#: ``SessionFacts.latest`` of a session without a reading: no "last vitals" cell.
NO_READINGS = None


def can_satisfy_a_check(policy: safety.MonitoringPolicy = safety.DEFAULT_MONITORING) -> Q:
    """Readings that measure everything some check of some route requires."""
    needs = {check.requires for schedule in policy.schedules.values() for check in schedule.checks}
    either = Q(pk__in=[])
    for fields in needs:
        either |= Q(**{f"{name}__isnull": False for name in fields})
    return either


def newest_values(ids: list[int]) -> dict[int, tuple[dict, dt.datetime, dt.datetime | None]]:
    """Per session: the newest final value of each measurement, the time of the newest final
    reading and of the newest blood pressure; one query, a subquery per measurement."""
    final = VitalReading.objects.filter(session=OuterRef("pk"), status=RecordStatus.FINAL)
    newest_first = ("-at", "-id")

    def newest(name: str, column: str):
        return Subquery(
            final.filter(**{f"{name}__isnull": False}).order_by(*newest_first).values(column)[:1]
        )

    annotations = {f"last_{name}": newest(name, name) for name in MEASUREMENTS}
    annotations["newest_at"] = Subquery(final.order_by(*newest_first).values("at")[:1])
    annotations["bp_at"] = Subquery(
        final.filter(Q(systolic_mmhg__isnull=False) | Q(diastolic_mmhg__isnull=False))
        .order_by(*newest_first)
        .values("at")[:1]
    )
    found = {}
    for row in (
        TreatmentSession.objects.filter(pk__in=ids)
        .annotate(**annotations)
        .values("pk", "newest_at", "bp_at", *annotations)
    ):
        if row["newest_at"] is None:
            continue
        values = {n: row[f"last_{n}"] for n in MEASUREMENTS if row[f"last_{n}"] is not None}
        found[row["pk"]] = (values, row["newest_at"], row["bp_at"])
    return found


#: The board's ages are whole minutes and checks fall due by the clock, so its version also
#: changes every this many seconds when no record does: a quiet floor re-renders twice a
#: minute instead of every poll, and nothing shown lags the clock by more than this.
VERSION_SECONDS = 30


def floor_version(now: dt.datetime) -> str:
    """A digest of everything the rows are made of, from a few aggregate queries whose cost
    does not grow with the readings: the running sessions and their state, the newest
    reading, infusion event and alert, how many alerts are acknowledged, the newest
    strike-out (its audit row: a struck entry changes no id), and the clock's half-minute."""
    sessions = list(
        TreatmentSession.objects.active()
        .order_by("pk")
        .values_list("pk", "status", "chair_id", "dose_started_at", "dose_ended_at")
    )
    ids = [s[0] for s in sessions]

    def mark(number: int, rows, aggregate) -> Any:
        # One row (number, value) per mark, so that every mark comes back in one query.
        return (
            rows.order_by()
            .annotate(mark=Value(number))
            .values("mark")
            .annotate(v=aggregate)
            .values_list("mark", "v")
        )

    in_floor = Q(session_id__in=ids)
    marks = sorted(
        mark(1, VitalReading.objects.filter(in_floor), Max("pk")).union(
            mark(2, InfusionEvent.objects.filter(in_floor), Max("pk")),
            mark(3, SafetyAlert.objects.filter(in_floor), Max("pk")),
            mark(
                4, SafetyAlert.objects.filter(in_floor, acknowledged_at__isnull=False), Count("pk")
            ),
            mark(5, AuditEvent.objects.filter(action="session.entry_in_error"), Max("pk")),
            all=True,
        )
    )
    marks.append(int(now.timestamp()) // VERSION_SECONDS)
    return hashlib.sha1(repr((sessions, marks)).encode(), usedforsecurity=False).hexdigest()[:16]


@login_required
def board(request):
    """The board page; an HTMX poll gets the rows partial only.

    A poll names the version it shows (``?v=``): when the floor's version is the same, the
    answer is 204 with no body (htmx leaves the board as it is) and no audit row, since no
    patient data was sent; any other answer is audited as before.
    """
    require_permission(request, "board.view")
    now = timezone.now()
    version = floor_version(now)
    if request.htmx and request.GET.get("v") == version:
        response = HttpResponse(status=204)
        response["X-Board-Version"] = version
        return response
    facts = floor_facts()
    rows = board_rows(facts, now)
    trail.record(
        action="board.view",
        request=request,
        detail={
            "sessions": [f.session_id for f in facts],
            "partial": bool(request.htmx),
        },
    )
    context = {
        "rows": rows,
        "now": now,
        "critical": sum(row.level == "critical" for row in rows),
        "poll_seconds": 5,
        "version": version,
    }
    template = "charting/board_rows.html" if request.htmx else "charting/board.html"
    response = render(request, template, context)
    response["X-Board-Version"] = version
    return response
