"""Each course's scores on its primary instrument, its baseline and its current score.

The primary instrument of a course is its indication's (``outcomes/measurement.yaml``).
Completed scores are read in one query and sorted by (patient, instrument, day), so each
course's window is a slice found with ``searchsorted``: from ``baseline_lookback_days``
before the first session until the next course starts.

* baseline: the last score on or before the day of the first session (a same-day score is
  the pre-session questionnaire);
* current: the latest score up to ``outcome_after_last_session_days`` after the last
  session (the outcome at the end of the course; later scores count for durability only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, IntegerField, Value, When

from ketaclinic.outcomes import schedule, services
from ketaclinic.outcomes.definitions import Instrument
from ketaclinic.outcomes.models import Response, ResponseStatus

from .clinic_days import NO_DAY, local_days
from .columns import EpochSeconds, fetch_columns
from .courses import DAY_SPAN, Courses, SessionsGiven


@dataclass(frozen=True)
class Scores:
    """Completed scores on the cohort's primary instruments, and each course's instrument.

    Scores are sorted by ``key`` = (patient, instrument) * DAY_SPAN + day. Per course:
    ``instrument`` (its primary instrument's code, "" when none is usable), ``code`` (that
    instrument's index in ``instruments``, -1 when none) and ``course_key`` (its
    (patient, instrument) number, to find its scores in ``key``).
    """

    key: np.ndarray
    day: np.ndarray
    total: np.ndarray
    instruments: dict[str, Instrument]  # by code, in index order
    instrument: np.ndarray
    code: np.ndarray
    course_key: np.ndarray

    def position(self, days: np.ndarray, side: str = "left") -> np.ndarray:
        """Where each course's score on its day in ``days`` is (or would go) in ``key``."""
        return np.searchsorted(self.key, self.course_key * DAY_SPAN + days, side)


def _usable_instruments(codes: Iterable[str]) -> dict[str, Instrument]:
    usable = services.usable_definitions()
    return {c: usable[c].instrument for c in codes if c in usable}


def load_scores(courses: Courses, policy: schedule.MeasurementPolicy) -> Scores:
    """The courses' primary instruments and their patients' completed scores (one query)."""
    primary_of = {i: policy.primary_instrument(i) for i in set(courses.indication.tolist())}
    primary = np.array([primary_of[i] for i in courses.indication.tolist()], dtype=object)
    instruments = _usable_instruments(sorted(set(primary)))
    codes = sorted(instruments)
    code_index = {c: k for k, c in enumerate(codes)}
    course_code = np.array([code_index.get(c, -1) for c in primary.tolist()], dtype=np.int64)
    r_patient, r_code, r_time, r_total = _completed_scores(code_index, courses.patient_id)
    r_day = local_days(r_time)
    width = len(codes or [0])
    r_key = r_patient.astype(np.int64) * width + r_code.astype(np.int64)
    order = np.lexsort((r_day, r_key))
    return Scores(
        key=r_key[order] * DAY_SPAN + r_day[order],
        day=r_day[order],
        total=r_total[order].astype(np.int64),
        instruments={c: instruments[c] for c in codes},
        instrument=np.where(course_code >= 0, primary, ""),
        code=course_code,
        course_key=courses.patient_id * width + course_code,
    )


def _completed_scores(code_index: dict[str, int], patient_id: np.ndarray) -> list[np.ndarray]:
    """Patient, instrument index, epoch seconds and total of the patients' completed scores."""
    if not code_index or not len(patient_id):
        return [np.empty(0)] * 4
    responses = (
        Response.objects.filter(status=ResponseStatus.COMPLETED, instrument_id__in=list(code_index))
        .annotate(
            t=EpochSeconds("submitted_at"),
            k=Case(
                *[When(instrument_id=c, then=Value(i)) for c, i in code_index.items()],
                output_field=IntegerField(),
            ),
        )
        .order_by()
    )
    columns = fetch_columns(responses, "patient_id", "k", "t", "total")
    mine = np.isin(columns[0].astype(np.int64), patient_id)
    return [column[mine] for column in columns]


@dataclass(frozen=True)
class Windows:
    """Per course: its scores' rows ``[lo, hi)`` in ``Scores``, its baseline and current.

    Missing scores are NaN, with days ``NO_DAY`` (baseline) and ``-NO_DAY`` (current).
    """

    lo: np.ndarray
    hi: np.ndarray
    has_baseline: np.ndarray
    baseline: np.ndarray
    baseline_day: np.ndarray
    current: np.ndarray
    current_day: np.ndarray

    @property
    def baseline_total(self) -> np.ndarray:
        """Baselines as whole numbers (0 where missing), for the response arithmetic."""
        return np.nan_to_num(self.baseline, nan=0).astype(np.int64)

    @property
    def current_total(self) -> np.ndarray:
        return np.nan_to_num(self.current, nan=0).astype(np.int64)


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray | int:
    """``values`` at ``index`` (negative positions clipped to 0); 0 when there are none."""
    return values[np.clip(index, 0, None)] if len(values) else 0


def score_windows(
    given: SessionsGiven,
    scores: Scores,
    window_end: np.ndarray,
    policy: schedule.MeasurementPolicy,
) -> Windows:
    """Each course's window of scores, its baseline and its current score."""
    has = (scores.code >= 0) & (given.count > 0)
    first = np.where(has, given.first_day, 0)
    end = np.minimum(window_end, DAY_SPAN - 1)
    lo = scores.position(first - policy.baseline_lookback_days)
    hi = scores.position(end)
    b_idx = scores.position(first, "right") - 1
    has_baseline = has & (b_idx >= lo) & (b_idx < hi)
    # "current" is the latest score up to N days after the course's last session.
    current_end = np.minimum(end, given.last_day + policy.outcome_after_last_session_days + 1)
    cur_idx = scores.position(current_end) - 1
    has_current = has & (cur_idx >= lo)
    return Windows(
        lo=lo,
        hi=hi,
        has_baseline=has_baseline,
        baseline=np.where(has_baseline, _at(scores.total, b_idx), np.nan).astype(float),
        baseline_day=np.where(has_baseline, _at(scores.day, b_idx), NO_DAY),
        current=np.where(has_current, _at(scores.total, cur_idx), np.nan).astype(float),
        current_day=np.where(has_current, _at(scores.day, cur_idx), -NO_DAY),
    )
