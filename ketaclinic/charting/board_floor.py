"""Reading the treatment floor for the board, in a fixed number of queries whose cost does
not grow with a session's length.

A monitor at 1 Hz writes 7,200 readings in two hours; the board asks for the floor every
5 seconds. So nothing here walks a session's readings: the readings that can satisfy a
monitoring check (a few an hour) come back through a partial index on blood pressure, and
the newest value of each measurement, with its own time, is one index seek per measurement
(``vital_constraints.newest_value_indexes``), however long ago it was taken or if it never
was. :func:`floor_version` is a digest of the floor from a few aggregates, so an unchanged
floor is answered without building the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, Subquery, Value
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.scheduling.models import Appointment, AppointmentEvent
from ketaclinic.scheduling.models import Status as VisitStatus

from . import monitoring
from .board_rows import SessionFacts, WaitingFacts
from .models import InfusionEvent, RecordStatus, SafetyAlert, TreatmentSession, VitalReading
from .vitals import MEASUREMENT_FIELDS

#: The board's ages are whole minutes and checks fall due by the clock, so its version also
#: changes every this many seconds when no record does: a quiet floor re-renders twice a
#: minute instead of every poll, and nothing shown lags the clock by more than this.
VERSION_SECONDS = 30


# ---------------------------------------------------------------- running sessions


def running_sessions() -> list[TreatmentSession]:
    """Every running session by room and chair (chairless last), with patient and chair."""
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
    return sessions


def infusion_events(ids: list[int]) -> dict[int, list[tuple]]:
    """(kind, rate) of each session's final infusion events, oldest first."""
    events = defaultdict(list)
    for session_id, kind, rate in (
        InfusionEvent.objects.filter(session_id__in=ids, status=RecordStatus.FINAL)
        .order_by("at", "id")
        .values_list("session_id", "kind", "rate_mg_per_min")
    ):
        events[session_id].append((kind, rate))
    return events


def can_satisfy_a_check(policy: monitoring.MonitoringPolicy = monitoring.DEFAULT_MONITORING) -> Q:
    """Readings that measure everything some check of some route requires."""
    needs = {check.requires for schedule in policy.schedules.values() for check in schedule.checks}
    either = Q(pk__in=[])
    for fields in needs:
        either |= Q(**{f"{name}__isnull": False for name in fields})
    return either


def check_readings(ids: list[int]) -> dict[int, list[tuple[dt.datetime, dict]]]:
    """Each session's final readings that can satisfy a monitoring check, oldest first
    (``board_rows.checks_of`` ignores the rest): a few an hour, found by index."""
    readings = defaultdict(list)
    for session_id, at, *values in (
        VitalReading.objects.filter(session_id__in=ids, status=RecordStatus.FINAL)
        .filter(can_satisfy_a_check())
        .order_by("at", "id")
        .values_list("session_id", "at", *MEASUREMENT_FIELDS)
    ):
        measured = {n: v for n, v in zip(MEASUREMENT_FIELDS, values, strict=True) if v is not None}
        readings[session_id].append((at, measured))
    return readings


def newest_values(ids: list[int]) -> dict[int, dict[str, tuple[Any, dt.datetime]]]:
    """Per session: the newest final value of each measurement with its own time; one query,
    two index seeks per measurement (one for the value, one for its time)."""
    final = VitalReading.objects.filter(session=OuterRef("pk"), status=RecordStatus.FINAL)

    def newest(name: str, column: str) -> Subquery:
        measured = final.filter(**{f"{name}__isnull": False}).order_by("-at", "-id")
        return Subquery(measured.values(column)[:1])

    annotations = {}
    for name in MEASUREMENT_FIELDS:
        annotations[f"last_{name}"] = newest(name, name)
        annotations[f"last_{name}_at"] = newest(name, "at")
    found = {}
    for row in (
        TreatmentSession.objects.filter(pk__in=ids)
        .annotate(**annotations)
        .values("pk", *annotations)
    ):
        found[row["pk"]] = {
            name: (row[f"last_{name}"], row[f"last_{name}_at"])
            for name in MEASUREMENT_FIELDS
            if row[f"last_{name}_at"] is not None
        }
    return found


def open_alerts(ids: list[int]) -> dict[int, list[tuple]]:
    alerts = defaultdict(list)
    for session_id, *alert in SafetyAlert.objects.filter(
        session_id__in=ids, acknowledged_at__isnull=True
    ).values_list("session_id", "code", "level", "action", "finding", "raised_at"):
        alerts[session_id].append(tuple(alert))
    return alerts


def session_facts(session: TreatmentSession, events, readings, latest, alerts) -> SessionFacts:
    return SessionFacts(
        session_id=session.pk,
        chair=session.chair.name if session.chair_id else None,
        room=session.chair.room.name if session.chair_id else None,
        given_name=session.patient.given_name,
        family_name=session.patient.family_name,
        mrn=session.patient.mrn,
        route=session.route,
        status=session.status,
        opened_at=session.opened_at,
        dose_started_at=session.dose_started_at,
        dose_ended_at=session.dose_ended_at,
        infusion_events=tuple(events[session.pk]),
        readings=tuple(readings[session.pk]),
        open_alerts=tuple(alerts[session.pk]),
        latest=latest.get(session.pk, {}),
    )


def floor_facts() -> list[SessionFacts]:
    """Every running session by room and chair (chairless last), in five queries."""
    sessions = running_sessions()
    ids = [s.pk for s in sessions]
    if not ids:
        return []
    events, readings = infusion_events(ids), check_readings(ids)
    latest, alerts = newest_values(ids), open_alerts(ids)
    return [session_facts(s, events, readings, latest, alerts) for s in sessions]


# ---------------------------------------------------------------- waiting patients


def waiting_facts(today: dt.date | None = None) -> list[WaitingFacts]:
    """Patients checked in today for a treatment visit whose session is not open yet, by
    visit time, with when they checked in; one query."""
    checked_in = AppointmentEvent.objects.filter(
        appointment=OuterRef("pk"), to_status=VisitStatus.CHECKED_IN
    ).order_by("-at", "-id")
    visits = (
        Appointment.objects.on_day(today or timezone.localdate())
        .filter(status=VisitStatus.CHECKED_IN, treatment_session__isnull=True)
        .exclude(type__protocol_code="")
        .select_related("patient", "type", "chair__room")
        .annotate(checked_in_at=Subquery(checked_in.values("at")[:1]))
        .order_by("starts_at", "id")
    )
    return [
        WaitingFacts(
            appointment_id=visit.pk,
            chair=visit.chair.name if visit.chair_id else None,
            room=visit.chair.room.name if visit.chair_id else None,
            given_name=visit.patient.given_name,
            family_name=visit.patient.family_name,
            mrn=visit.patient.mrn,
            visit=visit.type.name,
            starts_at=visit.starts_at,
            checked_in_at=visit.checked_in_at,
        )
        for visit in visits
    ]


# ---------------------------------------------------------------- the floor's version


def _mark(number: int, rows, aggregate) -> Any:
    # One row (number, value) per mark, so that every mark comes back in one query.
    return (
        rows.order_by()
        .annotate(mark=Value(number))
        .values("mark")
        .annotate(v=aggregate)
        .values_list("mark", "v")
    )


def floor_version(now: dt.datetime) -> str:
    """A digest of everything the board is made of, from a few aggregate queries whose cost
    does not grow with the readings: the running sessions and their state, the newest
    reading (of any session: the newest row id is one index step, where the newest of the
    floor's would walk every reading), infusion event and alert, how many alerts are
    acknowledged, the newest strike-out (its audit row: a struck entry changes no id), the
    newest visit event (a check-in adds a waiting patient), and the clock's half-minute."""
    sessions = list(
        TreatmentSession.objects.active()
        .order_by("pk")
        .values_list("pk", "status", "chair_id", "dose_started_at", "dose_ended_at")
    )
    in_floor = Q(session_id__in=[s[0] for s in sessions])
    acknowledged = SafetyAlert.objects.filter(in_floor, acknowledged_at__isnull=False)
    marks = sorted(
        _mark(1, VitalReading.objects.all(), Max("pk")).union(
            _mark(2, InfusionEvent.objects.filter(in_floor), Max("pk")),
            _mark(3, SafetyAlert.objects.filter(in_floor), Max("pk")),
            _mark(4, acknowledged, Count("pk")),
            _mark(5, AuditEvent.objects.filter(action="session.entry_in_error"), Max("pk")),
            _mark(6, AppointmentEvent.objects.all(), Max("pk")),
            all=True,
        )
    )
    marks.append(int(now.timestamp()) // VERSION_SECONDS)
    return hashlib.sha1(repr((sessions, marks)).encode(), usedforsecurity=False).hexdigest()[:16]
