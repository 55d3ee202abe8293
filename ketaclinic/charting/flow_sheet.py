"""The vital-signs flow sheet of the session page: a page of readings and the session by interval.

A bedside monitor at 1 Hz writes 7,200 readings in two hours, so the page never reads them
all: the flow sheet is one page of rows (newest first), counted by the database, and the
summary of the whole session is grouped by interval *in SQL* (count, lowest and highest of
each measurement), a row per 15 minutes however many readings fell in it. The same grouped
query counts the pages and gives the monitoring poll its marker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Func, IntegerField, Max, Min, Q

from .models import RecordStatus, TreatmentSession

#: The flow sheet shows this many readings a page, newest first.
FLOW_PAGE_ROWS = 30
#: The summary of the whole session groups readings into intervals of this many minutes.
FLOW_INTERVAL_MIN = 15
SUMMARISED = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_pct", "resp_rate_per_min")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


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
        origin = (self.origin - EPOCH) // MICROSECOND
        since = (
            f"(CAST(strftime('%%s', {column}) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER) - {origin})"
        )
        width = self.width // MICROSECOND
        # SQLite's integer division truncates towards zero: step back first below zero.
        sql = f"(({since} - CASE WHEN {since} < 0 THEN {width - 1} ELSE 0 END) / {width})"
        return sql, (*params, *params, *params, *params)

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
    """What the database says about all of a session's readings, in one grouped query: the
    valid ones by interval (newest first), how many there are, the newest reading's id, how
    many are struck out, and the time of the newest valid reading matching each ``latest``
    filter asked for."""

    intervals: list[Interval]
    total: int
    newest_id: int
    struck: int
    latest: dict[str, dt.datetime | None]


def summarise(session: TreatmentSession, latest: dict[str, Q] | None = None) -> ReadingSummary:
    """Group the session's readings by interval from opening: one query, a row an interval."""
    latest = latest or {}
    width = dt.timedelta(minutes=FLOW_INTERVAL_MIN)
    valid = Q(status=RecordStatus.FINAL)
    columns = {"all": Count("pk"), "valid": Count("pk", filter=valid), "newest_id": Max("pk")}
    columns |= {f"low_{name}": Min(name, filter=valid) for name in SUMMARISED}
    columns |= {f"high_{name}": Max(name, filter=valid) for name in SUMMARISED}
    columns |= {f"latest_{key}": Max("at", filter=valid & which) for key, which in latest.items()}
    rows = list(
        session.vitals.annotate(interval=IntervalIndex("at", origin=session.opened_at, width=width))
        .values("interval")
        .annotate(**columns)
        .order_by("-interval")
    )
    return ReadingSummary(
        intervals=[interval_of(session, row, width) for row in rows if row["valid"]],
        total=sum(row["all"] for row in rows),
        newest_id=max((row["newest_id"] for row in rows), default=0),
        struck=sum(row["all"] - row["valid"] for row in rows),
        latest={
            key: max((t for row in rows if (t := row[f"latest_{key}"])), default=None)
            for key in latest
        },
    )


def interval_of(session: TreatmentSession, row: dict, width: dt.timedelta) -> Interval:
    return Interval(
        start=session.opened_at + row["interval"] * width,
        count=row["valid"],
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
