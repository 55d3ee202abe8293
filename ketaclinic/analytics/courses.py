"""The cohort's courses and the sessions given in them, as columns.

A course is a signed treatment plan (active, completed or stopped). Its scores belong to it
until the next course of the same patient starts, so every signed plan is read (one query)
even when a filter keeps only some: the next course may be outside the filter. Sessions are
read in one query too and those of other courses dropped here, without a join.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import numpy as np
from django.db.models import Q
from django.db.models.functions import Coalesce

from ketaclinic.charting.models import TreatmentSession
from ketaclinic.plans.models import TreatmentPlan

from .clinic_days import NO_DAY, local_days, to_day
from .columns import DaysSinceEpoch, EpochSeconds, fetch_columns, fetch_rows, lookup

COURSE_STATUSES = ("active", "completed", "stopped")
GIVEN_EXCLUDED = ("entered-in-error", "not_started")
# Composite sort key: (course or patient-instrument) * DAY_SPAN + day; days since 1970 stay
# far below it.
DAY_SPAN = 1_000_000
PLAN_COLUMNS = (
    "id",
    "patient_id",
    "start_d",
    "indication",
    "route",
    "signed_by_id",
    "status",
    "induction_sessions",
)


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

    def keeps(self, courses: Courses) -> np.ndarray:
        """Which of ``courses`` the filter keeps (the same test as ``plan_q``, on columns)."""
        keep = np.ones(len(courses), dtype=bool)
        if self.start:
            keep &= courses.start_day >= to_day(self.start)
        if self.end:
            keep &= courses.start_day <= to_day(self.end)
        if self.indication:
            keep &= courses.indication == self.indication
        if self.route:
            keep &= courses.route == self.route
        if self.prescriber_id:
            keep &= courses.prescriber_id == self.prescriber_id
        return keep


@dataclass(frozen=True)
class Courses:
    """One entry per course, in plan id order.

    ``window_end`` is the start day of the patient's next course (``NO_DAY`` for the last);
    ``induction_count`` how many of its sessions are induction (0 without an induction phase).
    """

    plan_id: np.ndarray
    patient_id: np.ndarray
    start_day: np.ndarray
    indication: np.ndarray
    route: np.ndarray
    prescriber_id: np.ndarray
    status: np.ndarray
    induction_count: np.ndarray
    window_end: np.ndarray

    def __len__(self) -> int:
        return len(self.plan_id)

    def select(self, keep: np.ndarray) -> Courses:
        """The courses where ``keep`` is true."""
        return Courses(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


def load_courses(filters: CohortFilter) -> Courses:
    """Every signed course (one query), each with its window's end; those ``filters`` keep."""
    plans = TreatmentPlan.objects.filter(
        status__in=COURSE_STATUSES, signed_at__isnull=False
    ).annotate(start_d=DaysSinceEpoch("start_date"))
    rows = fetch_rows(plans.order_by("id"), *PLAN_COLUMNS)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(PLAN_COLUMNS)
    ids, patients, starts, indications, routes, prescribers, statuses, inductions = columns
    plan_id = np.array(ids, dtype=np.int64)
    patient_id = np.array(patients, dtype=np.int64)
    start_day = np.array(starts, dtype=np.int64)
    every = Courses(
        plan_id=plan_id,
        patient_id=patient_id,
        start_day=start_day,
        indication=np.array(indications, dtype=object),
        route=np.array(routes, dtype=object),
        prescriber_id=np.array([p or 0 for p in prescribers], dtype=np.int64),
        status=np.array(statuses, dtype=object),
        # plans_sign stores the count of the course's induction-phase sessions (None when
        # the course has no induction phase).
        induction_count=np.array([i or 0 for i in inductions], dtype=np.int64),
        window_end=_next_course_start(plan_id, patient_id, start_day),
    )
    return every.select(filters.keeps(every))


def _next_course_start(
    plan_id: np.ndarray, patient_id: np.ndarray, start_day: np.ndarray
) -> np.ndarray:
    """Start day of the same patient's next course (by start, then id), else ``NO_DAY``."""
    by_patient = np.lexsort((plan_id, start_day, patient_id))
    next_start = np.full(len(plan_id), NO_DAY, dtype=np.int64)
    same = patient_id[by_patient][1:] == patient_id[by_patient][:-1]
    next_start[by_patient[:-1][same]] = start_day[by_patient][1:][same]
    return next_start


@dataclass(frozen=True)
class SessionsGiven:
    """Per course: sessions given, first and last session day, last induction session day.

    ``key`` is ``course * DAY_SPAN + day`` of every session given, ascending, to count the
    sessions given before a day. Missing days are ``NO_DAY`` (first) and ``-NO_DAY`` (last).
    """

    count: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    last_induction_day: np.ndarray
    key: np.ndarray

    def before(self, courses: np.ndarray, days: np.ndarray) -> np.ndarray:
        """How many sessions of each of ``courses`` were given before its day in ``days``."""
        start = np.searchsorted(self.key, courses * DAY_SPAN, "left")
        return np.searchsorted(self.key, courses * DAY_SPAN + days, "left") - start


def load_sessions(courses: Courses) -> SessionsGiven:
    """The sessions given in the courses (one query), summarised per course."""
    given = (
        TreatmentSession.objects.filter(dose_started_at__isnull=False)
        .exclude(status__in=GIVEN_EXCLUDED)
        .annotate(t=EpochSeconds("dose_started_at"), n=Coalesce("session_number", 0))
        .order_by()
    )
    s_plan, s_number, s_time = fetch_columns(given, "plan_id", "n", "t")
    s_course, found = lookup(courses.plan_id, s_plan.astype(np.int64))
    s_course, s_number, s_time = s_course[found], s_number[found], s_time[found]
    s_day = local_days(s_time)
    s_number = np.nan_to_num(s_number, nan=0).astype(np.int64)
    order = np.lexsort((s_day, s_course))
    return _per_course(courses, s_course[order], s_day[order], s_number[order])


def _per_course(
    courses: Courses, s_course: np.ndarray, s_day: np.ndarray, s_number: np.ndarray
) -> SessionsGiven:
    """Summarise sessions (sorted by course, then day) per course."""
    n = len(courses)
    first_day = np.full(n, NO_DAY, dtype=np.int64)
    last_day = np.full(n, -NO_DAY, dtype=np.int64)
    last_induction_day = np.full(n, -NO_DAY, dtype=np.int64)
    if len(s_course):
        np.minimum.at(first_day, s_course, s_day)
        np.maximum.at(last_day, s_course, s_day)
        induction = (s_number > 0) & (s_number <= courses.induction_count[s_course])
        if induction.any():
            np.maximum.at(last_induction_day, s_course[induction], s_day[induction])
    return SessionsGiven(
        count=np.bincount(s_course, minlength=n).astype(np.int64),
        first_day=first_day,
        last_day=last_day,
        last_induction_day=last_induction_day,
        key=s_course * DAY_SPAN + s_day,
    )
