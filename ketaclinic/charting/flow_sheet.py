"""The vital-signs flow sheet of the session page: a page of readings and the session by interval.

A bedside monitor at 1 Hz writes 7,200 readings in two hours, so the page never reads them
all: the flow sheet is one page of rows (newest first), counted by the database, and the
summary of the whole session is grouped by interval *in SQL* (count, lowest and highest of
each measurement), a row per 15 minutes however many readings fell in it. The same statement
counts the pages and gives the monitoring poll its marker.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Func, IntegerField, Max, Min, Q, Value
from django.utils import timezone

from .models import RecordStatus, TreatmentSession, VitalReading

#: The flow sheet shows this many readings a page, newest first.
FLOW_PAGE_ROWS = 30
#: The summary of the whole session groups readings into intervals of this many minutes.
FLOW_INTERVAL_MIN = 15
SUMMARISED = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_pct", "resp_rate_per_min")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def microseconds(moment: dt.datetime) -> int:
    """Microseconds since 1970 (UTC), exactly."""
    return (moment - EPOCH) // MICROSECOND


class IntervalIndex(Func):
    """Which interval of ``width`` from ``origin`` a datetime column falls in, rounded down
    (negative before ``origin``), computed by the database exactly to the microsecond."""

    output_field = IntegerField()

    def __init__(self, expression, *, origin: dt.datetime, width: dt.timedelta) -> None:
        super().__init__(expression)
        self.origin, self.width = origin, width

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps an aware datetime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: whole
        # seconds from strftime, microseconds from the text (none when the fraction is).
        column, params = compiler.compile(self.source_expressions[0])
        since = (
            f"(CAST(strftime('%%s', {column}) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER) - %s)"
        )
        since_params = (*params, *params, microseconds(self.origin))
        width = self.width // MICROSECOND
        # SQLite's integer division truncates towards zero: step back first below zero.
        sql = f"(({since} - CASE WHEN {since} < 0 THEN {width - 1} ELSE 0 END) / {width})"
        return sql, (*since_params, *since_params)

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        seconds = self.width.total_seconds()
        sql = f"FLOOR(EXTRACT(EPOCH FROM ({column} - %s)) / {seconds})::integer"
        return sql, (*params, self.origin)


@dataclass
class Interval:
    """The final readings of one interval: how many, and each measurement's low and high."""

    start: dt.datetime
    count: int = 0
    lows: dict = field(default_factory=dict)
    highs: dict = field(default_factory=dict)

    def span(self, name: str) -> str:
        low, high = self.lows.get(name), self.highs.get(name)
        if low is None:
            return ""
        return f"{low}" if low == high else f"{low}–{high}"

    @property
    def spans(self) -> dict[str, str]:
        return {name: self.span(name) for name in SUMMARISED}

    @property
    def bp(self) -> str:
        systolic, diastolic = self.span("systolic_mmhg"), self.span("diastolic_mmhg")
        return f"{systolic}/{diastolic or '–'}" if systolic else ""


@dataclass(frozen=True)
class ReadingSummary:
    """What the database says about all of a session's readings, in one statement: the
    valid ones by interval (newest first), how many there are, the newest reading's id and
    how many are struck out."""

    intervals: list[Interval]
    total: int
    newest_id: int
    struck: int


#: Intervals summarised one by one, a day at most; readings before opening or after them
#: (none, as the record is written) are grouped by the database in one more part.
MAX_INTERVALS = 96
#: Stand-ins compiled into the summary's parts once, then replaced by each session's values:
#: building the queries costs more than running them.
ANY_SESSION = -31_337
PART_FROM = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
PART_TO = dt.datetime(1902, 1, 1, tzinfo=dt.UTC)
PART_INDEX = -1_000_003
OUTSIDE_BEFORE = dt.datetime(1903, 1, 1, tzinfo=dt.UTC)
OUTSIDE_FROM = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)
ORIGIN = dt.datetime(1905, 1, 1, tzinfo=dt.UTC)


#: The part counting every reading of the session (struck out too) gives this interval.
TOTALS = -(2**31)


def summary_columns(*, totals: bool = False) -> dict:
    """An interval's valid readings: how many, the newest id, each measurement's low and
    high. The totals part counts every reading and leaves the measurements out (its count
    and newest id come from the index alone)."""
    columns = {"count": Count("pk"), "newest_id": Max("pk")}
    for name in SUMMARISED:
        low, high = (Value(None, IntegerField()),) * 2 if totals else (Min(name), Max(name))
        columns |= {f"low_{name}": low, f"high_{name}": high}
    return columns


def interval_bounds(session: TreatmentSession) -> list[dt.datetime]:
    """Where the session's intervals begin and the last one ends: from opening to discharge
    (to now while it runs), a day at most."""
    width = dt.timedelta(minutes=FLOW_INTERVAL_MIN)
    until = session.discharged_at or timezone.now()
    count = min(MAX_INTERVALS, max(1, (until - session.opened_at) // width + 1))
    return [session.opened_at + k * width for k in range(count + 1)]


@functools.lru_cache(maxsize=4)
def compiled_parts(vendor: str) -> tuple[tuple, tuple, tuple]:
    """An interval's part, the readings-outside part and the totals part, compiled once per
    database with stand-ins for the session's values: three (sql, params)."""
    readings = VitalReading.objects.filter(session_id=ANY_SESSION)
    valid = readings.filter(status=RecordStatus.FINAL)
    part = (
        valid.filter(at__gte=PART_FROM, at__lt=PART_TO)
        .annotate(interval=Value(PART_INDEX, IntegerField()))
        .values("interval")
        .annotate(**summary_columns())
        .order_by()
    )
    width = dt.timedelta(minutes=FLOW_INTERVAL_MIN)
    outside = (
        valid.filter(Q(at__lt=OUTSIDE_BEFORE) | Q(at__gte=OUTSIDE_FROM))
        .annotate(interval=IntervalIndex("at", origin=ORIGIN, width=width))
        .values("interval")
        .annotate(**summary_columns())
        .order_by()
    )
    totals = (
        readings.annotate(interval=Value(TOTALS, IntegerField()))
        .values("interval")
        .annotate(**summary_columns(totals=True))
        .order_by()
    )
    return tuple(query.query.sql_with_params() for query in (part, outside, totals))


def summary_statement(session: TreatmentSession, bounds: list[dt.datetime]):
    """One interval's aggregate repeated for every interval (UNION ALL), the readings outside
    them grouped by :class:`IntervalIndex`, and the totals: (sql, params, column names).

    Each part walks its interval along the (session, at) index; grouping every reading by
    an expression instead would sort them all, the part of this page that grew with them.
    """
    part, outside, totals = compiled_parts(connection.vendor)
    (part_sql, part_params), (outside_sql, outside_params) = part, outside
    adapt = connection.ops.adapt_datetimefield_value
    common = {ANY_SESSION: session.pk}
    statements, params = [], []
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        values = common | {adapt(PART_FROM): adapt(start), adapt(PART_TO): adapt(end)}
        values[PART_INDEX] = index
        statements.append(part_sql)
        params += [values.get(param, param) for param in part_params]
    values = common | {
        adapt(OUTSIDE_BEFORE): adapt(bounds[0]),
        adapt(OUTSIDE_FROM): adapt(bounds[-1]),
        adapt(ORIGIN): adapt(session.opened_at),
        microseconds(ORIGIN): microseconds(session.opened_at),
    }
    statements += [outside_sql, totals[0]]
    params += [values.get(param, param) for param in (*outside_params, *totals[1])]
    return " UNION ALL ".join(statements), params, ["interval", *summary_columns()]


def summarise(session: TreatmentSession) -> ReadingSummary:
    """The session's readings by interval from opening, counted: one statement."""
    bounds = interval_bounds(session)
    sql, params, names = summary_statement(session, bounds)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    (every,) = [row for row in rows if row["interval"] == TOTALS]
    intervals = sorted(
        (row for row in rows if row["interval"] != TOTALS and row["count"]),
        key=lambda row: row["interval"],
        reverse=True,
    )
    width = bounds[1] - bounds[0]
    return ReadingSummary(
        intervals=[interval_of(session, row, width) for row in intervals],
        total=every["count"],
        newest_id=every["newest_id"] or 0,
        struck=every["count"] - sum(row["count"] for row in intervals),
    )


def interval_of(session: TreatmentSession, row: dict, width: dt.timedelta) -> Interval:
    return Interval(
        start=session.opened_at + row["interval"] * width,
        count=row["count"],
        lows={n: row[f"low_{n}"] for n in SUMMARISED if row[f"low_{n}"] is not None},
        highs={n: row[f"high_{n}"] for n in SUMMARISED if row[f"high_{n}"] is not None},
    )


def page_number(page: str | None, pages: int) -> int:
    """The page asked for, kept within the pages there are (the first when not a number)."""
    try:
        return min(max(1, int(page or 1)), pages)
    except ValueError:
        return 1


@dataclass(frozen=True)
class FlowPage:
    """Which rows of the flow sheet (all readings, newest first) a page shows."""

    number: int
    pages: int
    first: int

    @classmethod
    def of(cls, summary: ReadingSummary, page: str | None) -> FlowPage:
        pages = max(1, -(-summary.total // FLOW_PAGE_ROWS))
        number = page_number(page, pages)
        return cls(number, pages, (number - 1) * FLOW_PAGE_ROWS)

    def ids(self, session: TreatmentSession):
        """The page's reading ids (a subquery: no rows read here)."""
        newest_first = session.vitals.order_by("-at", "-id").values("pk")
        return newest_first[self.first : self.first + FLOW_PAGE_ROWS]


def flow_context(summary: ReadingSummary, page: FlowPage, rows: list) -> dict:
    """The flow sheet's page (``rows``, newest first) and the whole session by interval."""
    return {
        "flow": rows,
        "flow_total": summary.total,
        "flow_page": page.number,
        "flow_pages": page.pages,
        "flow_intervals": summary.intervals,
        "flow_interval_min": FLOW_INTERVAL_MIN,
    }
