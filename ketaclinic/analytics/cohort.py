"""The cohort table: one row per treatment course, with its measured outcome.

A course is a signed treatment plan (active, completed or stopped). Its outcome is measured
on the primary instrument of its indication (``outcomes/measurement.yaml``) with the rules of
``outcomes/scoring.py``, applied column-wise. ``build_cohort`` is a pipeline of named steps,
each over whole columns:

1. the courses matching the filter, each with the day its window ends (``courses.py``);
2. the sessions given in them: count, first and last day, last induction day;
3. the scores on each course's primary instrument, each course's window of them, its
   baseline and current score (``course_scores.py``);
4. the outcome columns: change, response and remission at the end of the course, time to
   response, durability after induction, complete measurement (``course_outcomes.py``).

A course is *evaluable* when it has a baseline and a score after its first session day;
rates are over evaluable courses. The tests check every column against the pure functions
on hand-built and random courses, and on the demo's cohort.

Efficiency: a fixed handful of queries whatever the cohort size (plans, sessions, scores,
prescribers), compact columns only (ids, epoch seconds, totals), and numpy for the rest.
On a 20,000-patient clinic this is a few hundred thousand numbers, not model instances.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ketaclinic.accounts.models import User
from ketaclinic.outcomes import schedule

from . import course_outcomes as outcomes
from .clinic_days import to_date
from .course_scores import load_scores, score_windows
from .courses import GIVEN_EXCLUDED, CohortFilter, load_courses, load_sessions

__all__ = ["CSV_COLUMNS", "GIVEN_EXCLUDED", "Cohort", "CohortFilter", "build_cohort", "write_csv"]


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


def build_cohort(
    filters: CohortFilter | None = None, policy: schedule.MeasurementPolicy | None = None
) -> Cohort:
    """The cohort table for the courses matching ``filters``, in a constant number of queries."""
    filters = filters or CohortFilter()
    policy = policy or schedule.shipped_policy()
    courses = load_courses(filters)
    given = load_sessions(courses)
    scores = load_scores(courses, policy)
    windows = score_windows(given, scores, courses.window_end, policy)
    rules = outcomes.response_rules(scores)
    end = outcomes.end_of_course(windows, given, rules)
    rows = outcomes.window_scores(windows, scores, rules)
    ttr_days, ttr_sessions = outcomes.time_to_response(given, rows)
    durability_days, relapsed = outcomes.durability(windows, scores, given, rules, rows)
    return Cohort(
        plan_id=courses.plan_id,
        patient_id=courses.patient_id,
        indication=courses.indication,
        route=courses.route,
        prescriber_id=courses.prescriber_id,
        status=courses.status,
        start_day=courses.start_day,
        instrument=scores.instrument,
        baseline=windows.baseline,
        baseline_day=windows.baseline_day,
        current=windows.current,
        current_day=windows.current_day,
        change_pct=end.change_pct,
        response=end.response,
        remission=end.remission,
        ttr_days=ttr_days,
        ttr_sessions=ttr_sessions,
        durability_days=durability_days,
        relapsed=relapsed,
        sessions=given.count,
        first_session_day=given.first_day,
        last_induction_day=given.last_induction_day,
        complete=outcomes.complete_measurement(windows, given, rows, policy),
        prescriber_names=prescriber_names(courses.prescriber_id),
    )


def prescriber_names(prescriber_id: np.ndarray) -> dict[int, str]:
    """Display names of the courses' prescribers (one query; none for no courses)."""
    if not len(prescriber_id):
        return {}
    users = User.objects.filter(pk__in=set(prescriber_id.tolist()) - {0})
    return {user.pk: user.display_name for user in users}
