"""The outcome columns of the cohort, from each course's window of scores (pure numpy).

The rules of ``outcomes/scoring.py``, applied column-wise:

* end of course: change, response and remission between baseline and current, as
  ``scoring.change`` (rounded half up to a tenth of a percent);
* time to response: the first score after the first session day meeting the response rule,
  in days from the first session and in sessions given before that day;
* durability: from the last induction session, the first later score no longer meeting the
  response rule (relapse), else censored at the last score, for courses responding at the
  end of induction (``scoring.durability``);
* complete measurement: a baseline and a score within ``complete_after_last_session_days``
  after the last session.

A course is *evaluable* when it has a baseline and a score after its first session day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketaclinic.outcomes import schedule

from .clinic_days import NO_DAY
from .course_scores import Scores, Windows
from .courses import SessionsGiven


def meets(
    baseline: np.ndarray, score: np.ndarray, fall_pct: np.ndarray, fall_points: np.ndarray
) -> np.ndarray:
    """Whether each score meets its response rule: a fall of ``fall_pct`` % or ``fall_points``.

    A rule's unused part is -1; a percentage fall from a baseline of 0 is never met.
    """
    fall = baseline - score
    by_pct = (fall_pct > 0) & (baseline != 0) & (fall * 100 >= fall_pct * baseline)
    by_points = (fall_points > 0) & (fall >= fall_points)
    return by_pct | by_points


@dataclass(frozen=True)
class ResponseRules:
    """Per course, its instrument's response and remission rules; -1 where there is none."""

    fall_pct: np.ndarray
    fall_points: np.ndarray
    remission_at: np.ndarray

    @property
    def has_response_rule(self) -> np.ndarray:
        return (self.fall_pct > 0) | (self.fall_points > 0)

    def met(self, baseline: np.ndarray, score: np.ndarray, course=slice(None)) -> np.ndarray:
        """Whether ``score`` meets the response rule of ``course`` (every course by default)."""
        return meets(baseline, score, self.fall_pct[course], self.fall_points[course])


def response_rules(scores: Scores) -> ResponseRules:
    """Each course's rules, from its primary instrument's outcome definition."""
    n = len(scores.code)
    fall_pct = np.full(n, -1, dtype=np.int64)
    fall_points = np.full(n, -1, dtype=np.int64)
    remission_at = np.full(n, -1, dtype=np.int64)
    for k, instrument in enumerate(scores.instruments.values()):
        rule = instrument.outcome
        mask = scores.code == k
        if rule.response is not None:
            if rule.response.fall_pct is not None:
                fall_pct[mask] = rule.response.fall_pct
            else:
                fall_points[mask] = rule.response.fall_points
        if rule.remission:
            remission_at[mask] = rule.remission[0].at_most
    return ResponseRules(fall_pct, fall_points, remission_at)


@dataclass(frozen=True)
class EndOfCourse:
    """Change (%, NaN when undefined), response and remission (1/0, -1 when undefined)."""

    change_pct: np.ndarray
    response: np.ndarray
    remission: np.ndarray


def end_of_course(windows: Windows, given: SessionsGiven, rules: ResponseRules) -> EndOfCourse:
    """Change, response and remission from baseline to current, for evaluable courses."""
    evaluable = windows.has_baseline & (windows.current_day > given.first_day)
    base, current = windows.baseline_total, windows.current_total
    response = np.where(
        evaluable & rules.has_response_rule, rules.met(base, current).astype(np.int8), -1
    ).astype(np.int8)
    remission = np.where(
        evaluable & (rules.remission_at >= 0), (current <= rules.remission_at).astype(np.int8), -1
    ).astype(np.int8)
    change_pct = np.full(len(base), np.nan)
    ok = evaluable & (base != 0)
    # Tenths of a percent rounded half away from zero, in integers: as scoring.change.
    numerator = (current - base) * 1000
    tenths = np.sign(numerator) * ((2 * np.abs(numerator) + base) // np.maximum(2 * base, 1))
    change_pct[ok] = tenths[ok] / 10.0
    return EndOfCourse(change_pct, response, remission)


@dataclass(frozen=True)
class WindowScores:
    """Every score in the window of every course with a baseline, one row per score.

    Rows are grouped by course and in day order within a course; ``meets`` is whether the
    score meets the course's response rule against its baseline.
    """

    course: np.ndarray
    day: np.ndarray
    total: np.ndarray
    meets: np.ndarray


def window_scores(windows: Windows, scores: Scores, rules: ResponseRules) -> WindowScores:
    """Expand each course's slice ``[lo, hi)`` of the sorted scores into rows."""
    span = np.where(windows.has_baseline, windows.hi - windows.lo, 0)
    total = int(span.sum())
    course = np.repeat(np.arange(len(span)), span)
    starts = np.repeat(np.cumsum(span) - span, span)
    row = np.repeat(windows.lo, span) + (np.arange(total) - starts)
    day = scores.day[row] if total else np.empty(0, dtype=np.int64)
    score = scores.total[row] if total else np.empty(0, dtype=np.int64)
    met = rules.met(windows.baseline_total[course], score, course)
    return WindowScores(course=course, day=day, total=score, meets=met)


def _first_per_course(course: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The courses among ``course`` and the day of each one's first row."""
    courses, first_at = np.unique(course, return_index=True)
    return courses, day[first_at]


def time_to_response(given: SessionsGiven, rows: WindowScores) -> tuple[np.ndarray, np.ndarray]:
    """Days and sessions given from the first session to the first responding score."""
    n = len(given.count)
    days_to = np.full(n, np.nan)
    sessions_to = np.full(n, np.nan)
    after_first = rows.meets & (rows.day > given.first_day[rows.course])
    if after_first.any():
        courses, days = _first_per_course(rows.course[after_first], rows.day[after_first])
        days_to[courses] = days - given.first_day[courses]
        sessions_to[courses] = given.before(courses, days)
    return days_to, sessions_to


def _responding_after_induction(
    windows: Windows, scores: Scores, given: SessionsGiven, rules: ResponseRules
) -> np.ndarray:
    """Courses whose score on the day of the last induction session meets the response rule."""
    last_induction = given.last_induction_day
    ended = windows.has_baseline & rules.has_response_rule & (last_induction > -NO_DAY)
    end_idx = scores.position(last_induction.clip(0), "right") - 1
    scored = ended & (end_idx >= windows.lo) & (end_idx < windows.hi)
    end_total = scores.total[np.clip(end_idx, 0, None)] if len(scores.total) else 0
    return scored & rules.met(windows.baseline_total, end_total)


def durability(
    windows: Windows,
    scores: Scores,
    given: SessionsGiven,
    rules: ResponseRules,
    rows: WindowScores,
) -> tuple[np.ndarray, np.ndarray]:
    """Days response lasted after induction, and relapsed (1), censored (0) or undefined (-1)."""
    n = len(given.count)
    days = np.full(n, np.nan)
    relapsed = np.full(n, -1, dtype=np.int8)
    responding = _responding_after_induction(windows, scores, given, rules)
    last_induction = given.last_induction_day
    later = responding[rows.course] & (rows.day > last_induction[rows.course])
    days[responding] = 0
    relapsed[responding] = 0
    if later.any():  # censored at the last score ...
        courses, last = _first_per_course(rows.course[later][::-1], rows.day[later][::-1])
        days[courses] = last - last_induction[courses]
    relapse = later & ~rows.meets
    if relapse.any():  # ... unless a score no longer met the rule
        courses, first = _first_per_course(rows.course[relapse], rows.day[relapse])
        days[courses] = first - last_induction[courses]
        relapsed[courses] = 1
    return days, relapsed


def complete_measurement(
    windows: Windows,
    given: SessionsGiven,
    rows: WindowScores,
    policy: schedule.MeasurementPolicy,
) -> np.ndarray:
    """A baseline and a score within N days after the last session."""
    last = given.last_day[rows.course]
    after_last = (rows.day > last) & (rows.day <= last + policy.complete_after_last_session_days)
    complete = np.zeros(len(given.count), dtype=bool)
    complete[np.unique(rows.course[after_last])] = True
    return complete & windows.has_baseline
