"""The cohort table: one row per treatment course, with its measured outcome.

A course is a signed treatment plan (active, completed or stopped). Its outcome is measured
on the primary instrument of its indication (``outcomes/measurement.yaml``) with the rules of
``outcomes/scoring.py``, applied column-wise:

* scores belong to a course from ``baseline_lookback_days`` before its first session until
  the next course of the same patient starts;
* baseline: the last score on or before the day of the first session (a same-day score is
  the pre-session questionnaire); current: the latest score up to
  ``outcome_after_last_session_days`` after the last session (the outcome at the end of the
  course; later follow-up scores count for durability only); change, response and remission
  between them, as ``scoring.change``;
* time to response: the first score after the first session day meeting the response rule,
  in days from the first session and in sessions given before that day;
* durability: from the last induction session, the first later score no longer meeting the
  response rule (relapse), else censored at the last score, for courses responding at the
  end of induction (``scoring.durability``).

A course is *evaluable* when it has a baseline and a score after its first session day;
rates are over evaluable courses. The tests check every column against the pure functions
on hand-built and random courses.

Efficiency: a fixed handful of queries whatever the cohort size (plans, induction lengths,
sessions, scores), compact columns only (ids, epoch seconds, totals), and numpy for the rest.
On a 20,000-patient clinic this is a few hundred thousand numbers, not model instances.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Case, FloatField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce

from ketaclinic.outcomes import schedule
from ketaclinic.outcomes.definitions import Instrument

DAY_S = 86_400
NO_DAY = np.iinfo(np.int64).max // 4
# Composite sort key: (patient, instrument) * DAY_SPAN + day; days since 1970 stay far below.
DAY_SPAN = 1_000_000
COURSE_STATUSES = ("active", "completed", "stopped")
GIVEN_EXCLUDED = ("entered-in-error", "not_started")


class EpochSeconds(Func):
    """Seconds since 1970 (UTC) of a datetime column, as a plain number."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() rather than strftime('%s'): no percent sign to escape twice.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS DOUBLE PRECISION)",
        )

    def as_mysql(self, compiler, connection, **extra):  # pragma: no cover - not supported
        return self.as_sql(compiler, connection, template="UNIX_TIMESTAMP(%(expressions)s)")


class DaysSinceEpoch(Func):
    """Days since 1970-01-01 of a date column."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '1970-01-01')")


def fetch_columns(queryset, *names: str) -> list[np.ndarray]:
    """Run ``queryset.values_list(*names)`` straight on the cursor, as numpy columns.

    Bypasses model instances and per-value converters: the columns must be numbers.
    """
    sql, params = queryset.values_list(*names).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [np.empty(0) for _ in names]
    width = len(names)
    try:
        # fromiter over the flattened tuples is about twice as fast as np.array(rows).
        flat = np.fromiter(chain.from_iterable(rows), dtype=float, count=len(rows) * width)
        matrix = flat.reshape(-1, width)
    except TypeError:  # a NULL somewhere: the slower path turns None into NaN
        matrix = np.array(rows, dtype=float)
    return [matrix[:, i] for i in range(width)]


def fetch_rows(queryset, *names: str) -> list[tuple]:
    """``queryset.values_list(*names)`` as raw tuples, straight from the cursor."""
    sql, params = queryset.values_list(*names).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids``, and which of them are there at all."""
    where = np.searchsorted(sorted_ids, ids)
    found = np.zeros(len(ids), dtype=bool)
    inside = where < len(sorted_ids)
    found[inside] = sorted_ids[where[inside]] == ids[inside]
    return np.where(found, where, 0), found


# --- clinic-local days -----------------------------------------------------------------


@lru_cache(maxsize=16)
def _transitions(zone_name: str, first_day: int, last_day: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants where the zone's offset changes in the range, and the offset from each."""
    zone = ZoneInfo(zone_name)

    def offset(t: int) -> int:
        return int(dt.datetime.fromtimestamp(t, tz=zone).utcoffset().total_seconds())

    times = [first_day * DAY_S]
    offsets = [offset(times[0])]
    for day in range(first_day + 1, last_day + 1):
        t = day * DAY_S
        current = offset(t)
        if current != offsets[-1]:
            low, high = t - DAY_S, t  # the change happened in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            times.append(high)
            offsets.append(current)
    return np.array(times, dtype=np.int64), np.array(offsets, dtype=np.int64)


def local_days(epoch_s: np.ndarray, zone_name: str | None = None) -> np.ndarray:
    """Clinic-local calendar day (days since 1970-01-01) of each UTC instant."""
    epoch_s = np.asarray(epoch_s, dtype=np.int64)
    if epoch_s.size == 0:
        return epoch_s
    zone_name = zone_name or settings.TIME_ZONE
    first = int(epoch_s.min() // DAY_S) - 2
    last = int(epoch_s.max() // DAY_S) + 2
    # Cache on whole years so repeated requests share one table.
    first, last = first - first % 365, last + (365 - last % 365)
    times, offsets = _transitions(zone_name, first, last)
    index = np.searchsorted(times, epoch_s, side="right") - 1
    return (epoch_s + offsets[np.maximum(index, 0)]) // DAY_S


EPOCH = dt.date(1970, 1, 1)


def to_date(day: float | int) -> dt.date | None:
    if day is None or day != day or day >= NO_DAY:  # day != day: NaN
        return None
    return EPOCH + dt.timedelta(days=int(day))


def to_day(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


# --- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilter:
    """Courses starting (plan start date) in [start, end], of an indication/route/prescriber."""

    start: dt.date | None = None
    end: dt.date | None = None
    indication: str | None = None
    route: str | None = None
    prescriber_id: int | None = None

    def plan_q(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}status__in": COURSE_STATUSES, f"{prefix}signed_at__isnull": False})
        if self.start:
            q &= Q(**{f"{prefix}start_date__gte": self.start})
        if self.end:
            q &= Q(**{f"{prefix}start_date__lte": self.end})
        if self.indication:
            q &= Q(**{f"{prefix}indication": self.indication})
        if self.route:
            q &= Q(**{f"{prefix}route": self.route})
        if self.prescriber_id:
            q &= Q(**{f"{prefix}signed_by_id": self.prescriber_id})
        return q


# --- the table -------------------------------------------------------------------------


@dataclass
class Cohort:
    """Columns, one entry per course. Missing numbers are NaN; flags are -1 when undefined."""

    plan_id: np.ndarray
    patient_id: np.ndarray
    indication: np.ndarray
    route: np.ndarray
    prescriber_id: np.ndarray
    status: np.ndarray
    start_day: np.ndarray
    instrument: np.ndarray
    baseline: np.ndarray
    baseline_day: np.ndarray
    current: np.ndarray
    current_day: np.ndarray
    change_pct: np.ndarray
    response: np.ndarray
    remission: np.ndarray
    ttr_days: np.ndarray
    ttr_sessions: np.ndarray
    durability_days: np.ndarray
    relapsed: np.ndarray
    sessions: np.ndarray
    first_session_day: np.ndarray
    last_induction_day: np.ndarray
    complete: np.ndarray
    prescriber_names: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.plan_id)

    @property
    def evaluable(self) -> np.ndarray:
        return ~np.isnan(self.baseline) & (self.current_day > self.first_session_day)

    def rows(self) -> Iterable[dict]:
        """One dict per course, for the CSV export and the tests."""

        def numbers(column: np.ndarray) -> list[int | None]:
            return [None if v != v else int(v) for v in column.tolist()]  # NaN != NaN

        def flags(column: np.ndarray) -> list[bool | None]:
            return [None if v < 0 else bool(v) for v in column.tolist()]

        def dates(days: np.ndarray, present: list) -> list[dt.date | None]:
            return [
                to_date(d) if p is not None else None
                for d, p in zip(days.tolist(), present, strict=True)
            ]

        baseline, current = numbers(self.baseline), numbers(self.current)
        columns = {
            "plan_id": self.plan_id.tolist(),
            "patient_id": self.patient_id.tolist(),
            "indication": self.indication.tolist(),
            "route": self.route.tolist(),
            "prescriber": [self.prescriber_names.get(p, "") for p in self.prescriber_id.tolist()],
            "status": self.status.tolist(),
            "start_date": [to_date(d) for d in self.start_day.tolist()],
            "instrument": self.instrument.tolist(),
            "baseline": baseline,
            "baseline_date": dates(self.baseline_day, baseline),
            "current": current,
            "current_date": dates(self.current_day, current),
            "change_pct": [None if v != v else v for v in self.change_pct.tolist()],
            "response": flags(self.response),
            "remission": flags(self.remission),
            "time_to_response_days": numbers(self.ttr_days),
            "time_to_response_sessions": numbers(self.ttr_sessions),
            "durability_days": numbers(self.durability_days),
            "relapsed": flags(self.relapsed),
            "sessions": self.sessions.tolist(),
            "complete_measurement": self.complete.tolist(),
        }
        names = list(columns)
        for values in zip(*columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))


CSV_COLUMNS = [
    "plan_id",
    "patient_id",
    "indication",
    "route",
    "prescriber",
    "status",
    "start_date",
    "instrument",
    "baseline",
    "baseline_date",
    "current",
    "current_date",
    "change_pct",
    "response",
    "remission",
    "time_to_response_days",
    "time_to_response_sessions",
    "durability_days",
    "relapsed",
    "sessions",
    "complete_measurement",
]


def write_csv(cohort: Cohort, out: io.TextIOBase) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in cohort.rows():
        writer.writerow(
            [
                ""
                if row[name] is None
                else ("yes" if row[name] is True else "no" if row[name] is False else row[name])
                for name in CSV_COLUMNS
            ]
        )


def _instruments(codes: Iterable[str]) -> dict[str, Instrument]:
    from ketaclinic.outcomes import services

    usable = services.usable_definitions()
    return {c: usable[c].instrument for c in codes if c in usable}


def build_cohort(
    filters: CohortFilter | None = None, policy: schedule.MeasurementPolicy | None = None
) -> Cohort:
    """The cohort table for the courses matching ``filters``, in a constant number of queries."""
    from ketaclinic.accounts.models import User
    from ketaclinic.charting.models import TreatmentSession
    from ketaclinic.outcomes.models import Response, ResponseStatus
    from ketaclinic.plans.models import TreatmentPlan

    filters = filters or CohortFilter()
    policy = policy or schedule.shipped_policy()

    # 1. Every signed course (one query): the filtered ones, and "next course starts".
    all_plans = TreatmentPlan.objects.filter(
        status__in=COURSE_STATUSES, signed_at__isnull=False
    ).annotate(start_d=DaysSinceEpoch("start_date"))
    rows = fetch_rows(
        all_plans.order_by("id"),
        "id",
        "patient_id",
        "start_d",
        "indication",
        "route",
        "signed_by_id",
        "status",
        "induction_sessions",
    )
    if rows:
        ids, patients, starts, indications, routes, prescribers, statuses, inductions = zip(
            *rows, strict=True
        )
    else:
        ids = patients = starts = indications = routes = prescribers = statuses = ()
        inductions = ()
    p_id = np.array(ids, dtype=np.int64)
    p_patient = np.array(patients, dtype=np.int64)
    p_start = np.array(starts, dtype=np.int64)
    p_indication = np.array(indications, dtype=object)
    p_route = np.array(routes, dtype=object)
    p_prescriber = np.array([p or 0 for p in prescribers], dtype=np.int64)
    p_status = np.array(statuses, dtype=object)
    p_induction = np.array([i or 0 for i in inductions], dtype=np.int64)
    keep = np.ones(len(rows), dtype=bool)
    if filters.start:
        keep &= p_start >= to_day(filters.start)
    if filters.end:
        keep &= p_start <= to_day(filters.end)
    if filters.indication:
        keep &= p_indication == filters.indication
    if filters.route:
        keep &= p_route == filters.route
    if filters.prescriber_id:
        keep &= p_prescriber == filters.prescriber_id

    # Next course of the same patient: sort all plans by (patient, start, id).
    by_patient = np.lexsort((p_id, p_start, p_patient))
    next_start = np.full(len(p_id), NO_DAY, dtype=np.int64)
    same = p_patient[by_patient][1:] == p_patient[by_patient][:-1]
    next_start[by_patient[:-1][same]] = p_start[by_patient][1:][same]

    plan_id = p_id[keep]
    n = len(plan_id)
    patient_id = p_patient[keep]
    start_day = p_start[keep]
    indication = p_indication[keep]
    route = p_route[keep]
    prescriber_id = p_prescriber[keep]
    status = p_status[keep]
    window_end = next_start[keep]

    # 2. How many sessions of each course are induction: plans_sign stores the count of the
    # course's induction-phase sessions (None when the course has no induction phase).
    induction_count = p_induction[keep]

    # 3. Sessions given (all read, those of other courses dropped here: no join).
    sessions_qs = (
        TreatmentSession.objects.filter(dose_started_at__isnull=False)
        .exclude(status__in=GIVEN_EXCLUDED)
        .annotate(t=EpochSeconds("dose_started_at"), n=Coalesce("session_number", 0))
        .order_by()
    )
    s_plan, s_number, s_time = fetch_columns(sessions_qs, "plan_id", "n", "t")
    s_course, found = _lookup(plan_id, s_plan.astype(np.int64))
    s_course, s_number, s_time = s_course[found], s_number[found], s_time[found]
    s_day = local_days(s_time)
    s_number = np.nan_to_num(s_number, nan=0).astype(np.int64)
    order = np.lexsort((s_day, s_course))
    s_course, s_day, s_number = s_course[order], s_day[order], s_number[order]
    sessions = np.bincount(s_course, minlength=n).astype(np.int64)
    first_session_day = np.full(n, NO_DAY, dtype=np.int64)
    last_session_day = np.full(n, -NO_DAY, dtype=np.int64)
    if len(s_course):
        np.minimum.at(first_session_day, s_course, s_day)
        np.maximum.at(last_session_day, s_course, s_day)
    last_induction_day = np.full(n, -NO_DAY, dtype=np.int64)
    is_induction = (
        (s_number > 0) & (s_number <= induction_count[s_course])
        if len(s_course)
        else np.zeros(0, bool)
    )
    if is_induction.any():
        np.maximum.at(last_induction_day, s_course[is_induction], s_day[is_induction])
    session_key = s_course * DAY_SPAN + s_day

    # 4. Scores on each course's primary instrument.
    primary_of = {i: policy.primary_instrument(i) for i in set(indication.tolist())}
    primary = np.array([primary_of[i] for i in indication.tolist()], dtype=object)
    instruments = _instruments(sorted(set(primary)))
    codes = sorted(instruments)
    code_index = {c: k for k, c in enumerate(codes)}
    course_code = np.array([code_index.get(c, -1) for c in primary.tolist()], dtype=np.int64)
    if codes and n:
        responses_qs = (
            Response.objects.filter(status=ResponseStatus.COMPLETED, instrument_id__in=codes)
            .annotate(
                t=EpochSeconds("submitted_at"),
                k=Case(
                    *[When(instrument_id=c, then=Value(i)) for c, i in code_index.items()],
                    output_field=IntegerField(),
                ),
            )
            .order_by()
        )
        r_patient, r_code, r_time, r_total = fetch_columns(
            responses_qs, "patient_id", "k", "t", "total"
        )
        mine = np.isin(r_patient.astype(np.int64), patient_id)
        r_patient, r_code, r_time, r_total = (a[mine] for a in (r_patient, r_code, r_time, r_total))
    else:
        r_patient = r_code = r_time = r_total = np.empty(0)
    r_day = local_days(r_time)
    r_key = r_patient.astype(np.int64) * len(codes or [0]) + r_code.astype(np.int64)
    order = np.lexsort((r_day, r_key))
    r_comp = r_key[order] * DAY_SPAN + r_day[order]
    r_day = r_day[order]
    r_total = r_total[order].astype(np.int64)

    c_key = patient_id * len(codes or [0]) + course_code
    has = (course_code >= 0) & (sessions > 0)
    c_first = np.where(has, first_session_day, 0)
    c_end = np.minimum(window_end, DAY_SPAN - 1)
    lo = np.searchsorted(r_comp, c_key * DAY_SPAN + c_first - policy.baseline_lookback_days, "left")
    hi = np.searchsorted(r_comp, c_key * DAY_SPAN + c_end, "left")
    b_idx = np.searchsorted(r_comp, c_key * DAY_SPAN + c_first, "right") - 1
    has_baseline = has & (b_idx >= lo) & (b_idx < hi)
    # "current" is the latest score up to N days after the course's last session.
    cur_end = np.minimum(c_end, last_session_day + policy.outcome_after_last_session_days + 1)
    cur_hi = np.searchsorted(r_comp, c_key * DAY_SPAN + cur_end, "left")
    has_current = has & (cur_hi > lo)

    baseline = np.where(
        has_baseline, r_total[np.clip(b_idx, 0, None)] if len(r_total) else 0, np.nan
    ).astype(float)
    baseline_day = np.where(
        has_baseline, r_day[np.clip(b_idx, 0, None)] if len(r_day) else 0, NO_DAY
    )
    cur_idx = np.clip(cur_hi - 1, 0, None)
    current = np.where(has_current, r_total[cur_idx] if len(r_total) else 0, np.nan).astype(float)
    current_day = np.where(has_current, r_day[cur_idx] if len(r_day) else 0, -NO_DAY)

    # Per-instrument rules as columns.
    fall_pct = np.full(n, -1, dtype=np.int64)
    fall_points = np.full(n, -1, dtype=np.int64)
    remission_at = np.full(n, -1, dtype=np.int64)
    for code, k in code_index.items():
        rule = instruments[code].outcome
        mask = course_code == k
        if rule.response is not None:
            if rule.response.fall_pct is not None:
                fall_pct[mask] = rule.response.fall_pct
            else:
                fall_points[mask] = rule.response.fall_points
        if rule.remission:
            remission_at[mask] = rule.remission[0].at_most

    def meets(base: np.ndarray, score: np.ndarray, pct: np.ndarray, points: np.ndarray):
        fall = base - score
        by_pct = (pct > 0) & (base != 0) & (fall * 100 >= pct * base)
        by_points = (points > 0) & (fall >= points)
        return by_pct | by_points

    evaluable = has_baseline & (current_day > first_session_day)
    has_rule = (fall_pct > 0) | (fall_points > 0)
    b_int = np.nan_to_num(baseline, nan=0).astype(np.int64)
    c_int = np.nan_to_num(current, nan=0).astype(np.int64)
    response = np.where(
        evaluable & has_rule, meets(b_int, c_int, fall_pct, fall_points).astype(np.int8), -1
    ).astype(np.int8)
    remission = np.where(
        evaluable & (remission_at >= 0), (c_int <= remission_at).astype(np.int8), -1
    ).astype(np.int8)
    change_pct = np.full(n, np.nan)
    ok = evaluable & (b_int != 0)
    numerator = (c_int - b_int) * 1000
    tenths = np.sign(numerator) * ((2 * np.abs(numerator) + b_int) // np.maximum(2 * b_int, 1))
    change_pct[ok] = tenths[ok] / 10.0

    # Expand each course's scores: course index and score index, for the sequential rules.
    span = np.where(has_baseline, hi - lo, 0)
    total = int(span.sum())
    e_course = np.repeat(np.arange(n), span)
    starts = np.repeat(np.cumsum(span) - span, span)
    e_row = np.repeat(lo, span) + (np.arange(total) - starts)
    e_day = r_day[e_row] if total else np.empty(0, dtype=np.int64)
    e_total = r_total[e_row] if total else np.empty(0, dtype=np.int64)
    e_meets = meets(b_int[e_course], e_total, fall_pct[e_course], fall_points[e_course])

    ttr_days = np.full(n, np.nan)
    ttr_sessions = np.full(n, np.nan)
    after_first = e_meets & (e_day > first_session_day[e_course])
    if after_first.any():
        courses, first_at = np.unique(e_course[after_first], return_index=True)
        days = e_day[after_first][first_at]
        ttr_days[courses] = days - first_session_day[courses]
        before = np.searchsorted(session_key, courses * DAY_SPAN + days, "left") - np.searchsorted(
            session_key, courses * DAY_SPAN, "left"
        )
        ttr_sessions[courses] = before

    # Durability after the last induction session.
    durability_days = np.full(n, np.nan)
    relapsed = np.full(n, -1, dtype=np.int8)
    ended = has_baseline & has_rule & (last_induction_day > -NO_DAY)
    end_idx = np.searchsorted(r_comp, c_key * DAY_SPAN + last_induction_day.clip(0), "right") - 1
    at_end_ok = ended & (end_idx >= lo) & (end_idx < hi)
    end_total = r_total[np.clip(end_idx, 0, None)] if len(r_total) else np.zeros(n, np.int64)
    responding = at_end_ok & meets(b_int, end_total, fall_pct, fall_points)
    later = (
        responding[e_course] & (e_day > last_induction_day[e_course])
        if total
        else np.zeros(0, bool)
    )
    relapse_rows = later & ~e_meets
    durability_days[responding] = 0
    relapsed[responding] = 0
    if later.any():
        courses, last_at = np.unique(e_course[later][::-1], return_index=True)
        last_days = e_day[later][::-1][last_at]
        durability_days[courses] = last_days - last_induction_day[courses]
    if relapse_rows.any():
        courses, first_at = np.unique(e_course[relapse_rows], return_index=True)
        days = e_day[relapse_rows][first_at]
        durability_days[courses] = days - last_induction_day[courses]
        relapsed[courses] = 1

    # Complete measurement: a baseline and a score within N days after the last session.
    after_last = (
        (e_day > last_session_day[e_course])
        & (e_day <= last_session_day[e_course] + policy.complete_after_last_session_days)
        if total
        else np.zeros(0, bool)
    )
    complete = np.zeros(n, dtype=bool)
    complete[np.unique(e_course[after_last])] = True
    complete &= has_baseline

    names = (
        {
            user.pk: user.display_name
            for user in User.objects.filter(pk__in=set(prescriber_id.tolist()) - {0})
        }
        if n
        else {}
    )
    return Cohort(
        plan_id=plan_id,
        patient_id=patient_id,
        indication=indication,
        route=route,
        prescriber_id=prescriber_id,
        status=status,
        start_day=start_day,
        instrument=np.where(course_code >= 0, primary, ""),
        baseline=baseline,
        baseline_day=baseline_day,
        current=current,
        current_day=current_day,
        change_pct=change_pct,
        response=response,
        remission=remission,
        ttr_days=ttr_days,
        ttr_sessions=ttr_sessions,
        durability_days=durability_days,
        relapsed=relapsed,
        sessions=sessions,
        first_session_day=first_session_day,
        last_induction_day=last_induction_day,
        complete=complete,
        prescriber_names=names,
    )
