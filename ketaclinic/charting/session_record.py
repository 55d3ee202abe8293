"""The session's record as its page reads it: a fixed number of queries and a bounded number of
rows, however long the session ran.

Entries a clinician writes (checklist, infusion events, injections, devices, medications,
alerts, ratings, side effects, adverse events, notes) are few and read whole. Vital signs are
not: a monitor at 1 Hz writes 7,200 in two hours, so the page reads, in two queries (issue #15):

- a summary of them all by interval, in SQL (:func:`.flow_sheet.summarise`): the flow
  sheet's summary and page count, and the poll's marker;
- the rows its parts need, in one query, each part found along an index: the flow sheet's
  page; the readings that can satisfy a monitoring check (a blood pressure every few
  minutes, not the monitor's every second); and the *decisive* readings, which decide the
  alerts in force (the tail :mod:`.alert_window` defines) and, before dosing, the
  checklist's vital signs (the newest reading measuring all it needs).

Both statements are compiled once (per database, and per vital-sign policy for the second)
with a stand-in for the session: building their subqueries costs more than running them.

Any set of valid readings holding the decisive ones gives the same alerts and the same
checklist answer as all of them, so the rows of the three parts are read together and each
part takes what it needs.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Func,
    Max,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from . import alert_window, checklist, checklist_service, safety, session_service
from .flow_sheet import ANY_SESSION, FlowPage, ReadingSummary, summarise
from .models import RecordStatus, TreatmentSession, VitalReading

#: A reading's minute is kept to 0.01 min (0.6 s): a sustained run is read from this much
#: before its window so a reading at its very edge is never left out by the rounding.
ROUNDING_SLACK = dt.timedelta(seconds=1)
#: The lookups of the vital-sign policy's comparisons.
LOOKUPS = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}
#: What some monitoring check requires a reading to measure (each a set of measurements).
CHECK_NEEDS = frozenset(
    check.requires
    for schedule in safety.DEFAULT_MONITORING.schedules.values()
    for check in schedule.checks
)


def measures_any(fields: Sequence[str]) -> Q:
    """Readings that measured at least one of ``fields``."""
    either = Q(pk__in=[])
    for name in fields:
        either |= Q(**{f"{name}__isnull": False})
    return either


def measures_all(fields: Sequence[str]) -> Q:
    """Readings that measured every one of ``fields``."""
    return Q(**{f"{name}__isnull": False for name in fields})


def meets(rule: safety.VitalSignRule) -> Q:
    """Readings meeting a threshold rule (any of its conditions), as the database reads it."""
    either = Q(pk__in=[])
    for condition in rule.when_any:
        either |= Q(**{f"{condition.field}__{LOOKUPS[condition.op]}": condition.value})
    return either


def can_satisfy_a_check(row: VitalReading) -> bool:
    return any(all(getattr(row, name) is not None for name in need) for need in CHECK_NEEDS)


def any_check_need() -> Q:
    either = Q(pk__in=[])
    for need in CHECK_NEEDS:
        either |= measures_all(need)
    return either


class Before(Func):
    """A datetime ``seconds`` before an expression's, worked out by the database."""

    output_field = DateTimeField()

    def __init__(self, expression, seconds: float) -> None:
        super().__init__(expression)
        self.seconds = seconds

    def as_sqlite(self, compiler, connection, **extra):
        # Same layout as Django stores ('YYYY-MM-DD HH:MM:SS.SSS'), so it compares as text.
        moment, params = compiler.compile(self.source_expressions[0])
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {moment}, '-{self.seconds} seconds')", params

    def as_postgresql(self, compiler, connection, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        return f"({moment} - interval '{self.seconds} seconds')", params


def _valid(session: TreatmentSession):
    return VitalReading.objects.filter(session_id=session.pk, status=RecordStatus.FINAL)


def _newest(session: TreatmentSession, which: Q):
    """The newest valid reading matching ``which``, as a subquery of its id."""
    return _valid(session).filter(which).order_by("-at", "-id").values("pk")[:1]


def _newest_at(session: TreatmentSession, which: Q) -> Subquery:
    return Subquery(_valid(session).filter(which).order_by("-at", "-id").values("at")[:1])


def _runs(session: TreatmentSession, policy: safety.VitalSignPolicy) -> list:
    """Each sustained rule's walk (:func:`.alert_window.alert_tail`), a little longer: back
    from the newest reading measuring its fields over its window, no further than the newest
    one not meeting it, and the newest reading before the window (subqueries of ids)."""
    runs = []
    for reach in alert_window.sustained_reaches(policy):
        relevant = measures_any(reach.fields)
        seconds = float(reach.minutes) * 60 + ROUNDING_SLACK.total_seconds()
        start = Before(_newest_at(session, relevant), seconds)
        since = Coalesce(_newest_at(session, relevant & ~meets(reach.base)), start)
        runs.append(
            _valid(session).filter(relevant, at__gte=start).filter(at__gte=since).values("pk")
        )
        runs.append(_newest(session, relevant & Q(at__lt=start)))
    return runs


def decisive(session: TreatmentSession, policy: safety.VitalSignPolicy) -> list:
    """The valid readings deciding the alerts in force and the checklist's vital signs, as
    subqueries of their ids."""
    wanted = _runs(session, policy)
    for name in alert_window.threshold_fields(policy):
        wanted.append(_newest(session, Q(**{f"{name}__isnull": False})))
    vitals_item = checklist.DEFAULT_CHECKLIST.item("pre_treatment_vitals")
    wanted.append(_newest(session, measures_all(vitals_item.requires)))
    return wanted


def any_of(subqueries: Sequence) -> Q:
    """Readings whose id one of ``subqueries`` gives: each found along its own index."""
    either = Q(pk__in=[])
    for ids in subqueries:
        either |= Q(pk__in=ids)
    return either


@functools.lru_cache(maxsize=8)
def needed_statement(vendor: str, policy: safety.VitalSignPolicy) -> tuple[str, tuple]:
    """The ids of the valid readings the page checks against or decides with, compiled once
    per database and vital-sign policy with a stand-in for the session: building these
    subqueries costs more than running them."""
    session = TreatmentSession(pk=ANY_SESSION)
    checked = _valid(session).filter(any_check_need()).values("pk")
    ids = VitalReading.objects.filter(any_of([checked, *decisive(session, policy)]))
    return ids.values("pk").query.sql_with_params()


def needed_ids(session: TreatmentSession, policy: safety.VitalSignPolicy) -> RawSQL:
    sql, params = needed_statement(connection.vendor, policy)
    return RawSQL(sql, tuple(session.pk if param == ANY_SESSION else param for param in params))


@dataclass(frozen=True)
class Readings:
    """The vital signs the page shows or decides with (rows oldest first unless named)."""

    summary: ReadingSummary
    page: FlowPage
    #: The flow sheet's page, newest first (valid or struck out).
    flow: list
    #: Valid readings holding the decisive ones (the tail of the alerts, the checklist's).
    decisive: list
    #: Valid readings that can satisfy a monitoring check.
    check: list

    @classmethod
    def read(cls, session, policy: safety.VitalSignPolicy, page: str | None) -> Readings:
        summary = summarise(session)
        shown = FlowPage.of(summary, page)
        on_page = Q(pk__in=shown.ids(session))
        rows = list(
            VitalReading.objects.filter(Q(pk__in=needed_ids(session, policy)) | on_page)
            .annotate(on_page=Case(When(on_page, then=Value(True)), default=Value(False)))
            .select_related("recorded_by")
            .order_by("at", "id")
        )
        valid = session_service.final(rows)
        return cls(
            summary=summary,
            page=shown,
            flow=[row for row in reversed(rows) if row.on_page],
            decisive=valid,
            check=[row for row in valid if can_satisfy_a_check(row)],
        )


@dataclass
class Sheet:
    """The session's record, read once per request (a fixed number of queries)."""

    checklist: list
    infusion: list
    boluses: list
    devices: list
    medications: list
    alerts: list
    dissociation: list
    side_effects: list
    adverse_events: list
    notes: list
    discharge: Any
    readings: Readings

    @classmethod
    def read(cls, session, policy: safety.VitalSignPolicy, page: str | None = None) -> Sheet:
        by = ("recorded_by",)
        return cls(
            checklist=checklist_service.checklist_rows(session),
            infusion=list(session.infusion_events.select_related(*by).order_by("at", "id")),
            boluses=list(session.boluses.select_related(*by).order_by("at", "id")),
            devices=list(session.devices.select_related(*by).order_by("at", "id")),
            medications=list(session.medications_given.select_related(*by).order_by("at", "id")),
            alerts=list(
                session.alerts.select_related("acknowledged_by").order_by("raised_at", "id")
            ),
            dissociation=list(
                session.dissociation_ratings.select_related(*by).order_by("at", "id")
            ),
            side_effects=list(session.side_effects.select_related(*by).order_by("at", "id")),
            adverse_events=list(session.adverse_events.select_related(*by).order_by("at", "id")),
            notes=list(session.integration_notes.select_related("therapist").order_by("at", "id")),
            # Read with the session (access.WITH_SESSION): no query here.
            discharge=session.discharge if hasattr(session, "discharge") else None,
            readings=Readings.read(session, policy, page),
        )

    @classmethod
    def for_monitoring(cls, session, policy: safety.VitalSignPolicy, page: str | None) -> Sheet:
        """What the polled vitals and alerts panels show, and the dose window they need."""
        by = ("recorded_by",)
        return cls(
            checklist=[],
            infusion=list(session.infusion_events.select_related(*by).order_by("at", "id")),
            boluses=[],
            devices=list(session.devices.select_related(*by).order_by("at", "id")),
            medications=[],
            alerts=list(
                session.alerts.select_related("acknowledged_by").order_by("raised_at", "id")
            ),
            dissociation=[],
            side_effects=[],
            adverse_events=[],
            notes=[],
            discharge=None,
            readings=Readings.read(session, policy, page),
        )


def monitoring_marker(summary: ReadingSummary, alerts: Sequence) -> str:
    """Changes whenever a reading or alert is added, acknowledged or struck out."""
    newest_alert = max((a.pk for a in alerts), default=0)
    acknowledged = sum(1 for a in alerts if not a.is_open)
    return f"{summary.newest_id}-{newest_alert}-{acknowledged}-{summary.struck}"


def current_marker(session: TreatmentSession) -> str:
    """The monitoring marker from the database alone (the poll's cheap check): two queries."""
    marks = session.vitals.aggregate(
        newest_id=Max("pk"), struck=Count("pk", filter=~Q(status=RecordStatus.FINAL))
    )
    newest_alert, acknowledged = 0, 0
    for alert in session.alerts.only("id", "acknowledged_at"):
        newest_alert = max(newest_alert, alert.pk)
        acknowledged += not alert.is_open
    return f"{marks['newest_id'] or 0}-{newest_alert}-{acknowledged}-{marks['struck']}"
