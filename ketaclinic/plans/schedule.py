"""Propose the session dates of a treatment course.

Pure Python, no Django. The patterns (how many sessions, how far apart, which phase) are data
in ``protocols/data/schedules.yaml``, loaded by :mod:`ketaclinic.protocols.catalog`; this module
turns a pattern, a start date and the clinic's working weekdays into dates. The prescriber
edits the proposal before booking; nothing here books a chair.

How dates are placed
--------------------
The first session is on the start date when it is a working day, else on the next working day;
weeks are counted from that first session. Each later session has a window of allowed days (its
week, or the induction span) and a target day inside it (evenly spread: about 3 a week for IV
induction, Monday/Thursday-like for twice weekly, the week's first day for weekly). Sessions
go on the working day nearest the target (ties to the earlier day), at least ``min_gap_days``
after the previous session, but never later than the last day that leaves room for the rest
of the course (worked out backwards from the last session). If no such day exists the pattern
cannot be met with these working days, and :class:`ScheduleError` says so.

IV maintenance is simpler: one session every ``interval_weeks``, the first on the start date,
each moved to the nearest working day (ties to the earlier day, never before the start date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ketaclinic.protocols.catalog import (
    ScheduleKind,
    SchedulePattern,
    UnknownCodeError,
    catalog,
    get_schedule,
)

__all__ = [
    "ProposedSession",
    "ScheduleError",
    "propose_schedule",
    "schedule_codes",
]

_DAYS_PER_WEEK = 7
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ScheduleError(ValueError):
    """A schedule cannot be proposed as asked; ``field`` names the input at fault (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ProposedSession:
    """One proposed session: its number in the course, date and phase."""

    number: int
    date: date
    phase: str

    def as_dict(self) -> dict[str, Any]:
        """``{"number": 1, "date": "2026-12-07", "phase": "induction"}``."""
        return {"number": self.number, "date": self.date.isoformat(), "phase": self.phase}


@dataclass(frozen=True)
class _Slot:
    """Where one session may go, in days after the first session."""

    earliest: int
    latest: int
    target: int
    phase: str


def schedule_codes() -> tuple[str, ...]:
    """Codes of the schedule patterns :func:`propose_schedule` accepts."""
    return tuple(catalog().schedules)


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def _pattern(protocol_code: Any) -> SchedulePattern:
    try:
        return get_schedule(protocol_code)
    except UnknownCodeError as error:
        raise ScheduleError("protocol", str(error)) from None


def _working_weekdays(value: Any) -> frozenset[int]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ScheduleError("working_weekdays", "must be a list of weekdays, 0=Mon .. 6=Sun")
    days = list(value)
    bad = [
        day
        for day in days
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6
    ]
    if bad:
        raise ScheduleError("working_weekdays", f"{bad!r} are not weekdays; use 0=Mon .. 6=Sun")
    distinct = frozenset(days)
    minimum = catalog().min_working_days
    if len(distinct) < minimum:
        raise ScheduleError(
            "working_weekdays",
            f"at least {minimum} different working days a week are needed, got "
            f"{len(distinct)} ({'; '.join(catalog().min_working_days_sources)})",
        )
    return distinct


def _start_date(value: Any) -> date:
    # datetime is a date subclass; a time of day has no meaning for a proposal.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ScheduleError("start_date", f"must be a date, got {value!r}")
    return value


def _in_range(value: Any, field: str, allowed: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleError(field, f"must be a whole number, got {value!r}")
    if value not in allowed:
        raise ScheduleError(
            field,
            f"{value} is outside {allowed.min}-{allowed.max} ({'; '.join(allowed.sources)})",
        )
    return value


def _refuse_unused(pattern: SchedulePattern, **given: Any) -> None:
    """Parameters that do not apply are errors, not silently dropped."""
    for name, value in given.items():
        if value is not None and value is not False:
            raise ScheduleError(name, f"does not apply to “{pattern.label}”")


# --------------------------------------------------------------------------------------------
# Placement
# --------------------------------------------------------------------------------------------


def _first_working_day(start: date, working: frozenset[int]) -> date:
    day = start
    while day.weekday() not in working:
        day += timedelta(days=1)
    return day


def _is_working(offset: int, first: date, working: frozenset[int]) -> bool:
    return (first + timedelta(days=offset)).weekday() in working


def _latest_days(
    slots: list[_Slot], pattern: SchedulePattern, first: date, working: frozenset[int]
) -> list[int]:
    """The latest day each session can take so that every later session still fits.

    Worked backwards from the last session. A session can go on day ``d`` with the rest of
    the course still possible exactly when ``d`` is no later than this bound: placing every
    later session on its own bound is then a valid completion.
    """
    gap = pattern.min_gap_days
    latest: list[int] = []
    bound: int | None = None
    for index in range(len(slots) - 1, -1, -1):
        slot = slots[index]
        high = slot.latest if bound is None else min(slot.latest, bound - gap)
        day = next(
            (d for d in range(high, slot.earliest - 1, -1) if _is_working(d, first, working)),
            None,
        )
        if day is None:
            names = ", ".join(_WEEKDAY_NAMES[weekday] for weekday in sorted(working))
            raise ScheduleError(
                "working_weekdays",
                f"“{pattern.label}” cannot fit session {index + 1} on working days {names} "
                f"with sessions at least {gap} days apart; add working days",
            )
        latest.append(day)
        bound = day
    return latest[::-1]


def _place(
    slots: list[_Slot], pattern: SchedulePattern, first: date, working: frozenset[int]
) -> list[ProposedSession]:
    """Each session on the working day nearest its target (ties earlier) that keeps the gap
    from the previous session and leaves room for the rest of the course."""
    latest = _latest_days(slots, pattern, first, working)
    placed: list[ProposedSession] = []
    previous: int | None = None
    for index, slot in enumerate(slots):
        low = (
            slot.earliest
            if previous is None
            else max(slot.earliest, previous + pattern.min_gap_days)
        )
        # Never empty: latest[index] itself is in range (see _latest_days).
        chosen = min(
            (d for d in range(low, latest[index] + 1) if _is_working(d, first, working)),
            key=lambda d, target=slot.target: (abs(d - target), d),
        )
        placed.append(ProposedSession(index + 1, first + timedelta(days=chosen), slot.phase))
        previous = chosen
    return placed


def _spread_slots(pattern: SchedulePattern) -> list[_Slot]:
    """IV induction: n sessions within the span, targets about ``per_week`` a week apart."""
    assert pattern.sessions is not None
    assert pattern.max_span_days is not None
    assert pattern.target_sessions_per_week is not None
    assert pattern.phase is not None
    per_week = pattern.target_sessions_per_week
    slots = [_Slot(0, 0, 0, pattern.phase)]
    for index in range(1, pattern.sessions):
        target = min(index * _DAYS_PER_WEEK // per_week, pattern.max_span_days)
        slots.append(_Slot(0, pattern.max_span_days, target, pattern.phase))
    return slots


def _phased_slots(pattern: SchedulePattern, horizon_weeks: int, weekly: bool) -> list[_Slot]:
    """Week-by-week phases: ``sessions_per_week`` in every ``every_weeks``-th week."""
    slots: list[_Slot] = []
    for phase in pattern.phases:
        every = phase.every_weeks_if_weekly if weekly and phase.every_weeks_if_weekly else None
        step = every or phase.every_weeks
        last_week = min(phase.to_week or horizon_weeks, horizon_weeks)
        for week in range(phase.from_week, last_week + 1, step):
            week_start = (week - 1) * _DAYS_PER_WEEK
            for index in range(phase.sessions_per_week):
                target = week_start + index * _DAYS_PER_WEEK // phase.sessions_per_week
                slots.append(_Slot(week_start, week_start + _DAYS_PER_WEEK - 1, target, phase.name))
    # The course starts on the first working day from the start date, by definition.
    slots[0] = _Slot(0, 0, 0, slots[0].phase)
    return slots


def _interval_sessions(
    pattern: SchedulePattern,
    start: date,
    working: frozenset[int],
    count: int,
    interval_weeks: int,
) -> list[ProposedSession]:
    assert pattern.phase is not None
    sessions: list[ProposedSession] = []
    not_before = start
    for index in range(count):
        nominal = start + timedelta(weeks=index * interval_weeks)
        day = _nearest_working_day(nominal, working, not_before)
        sessions.append(ProposedSession(index + 1, day, pattern.phase))
        not_before = day + timedelta(days=pattern.min_gap_days)
    return sessions


def _nearest_working_day(target: date, working: frozenset[int], not_before: date) -> date:
    """Working day nearest ``target``, the earlier one on a tie, never before ``not_before``."""
    for distance in range(_DAYS_PER_WEEK * 2):
        for day in (target - timedelta(days=distance), target + timedelta(days=distance)):
            if day >= not_before and day.weekday() in working:
                return day
    raise ScheduleError("working_weekdays", "no working day near the planned date")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def propose_schedule(
    protocol_code: str,
    *,
    start_date: date,
    working_weekdays: Iterable[int],
    count: int | None = None,
    interval_weeks: int | None = None,
    maintenance_weekly: bool = False,
    horizon_weeks: int | None = None,
) -> list[ProposedSession]:
    """Propose session dates for ``POST /api/v1/plans/schedule-preview``.

    Parameters
    ----------
    protocol_code : {"iv_induction", "iv_maintenance", "esketamine_trd", "esketamine_mdsi"}
        A schedule pattern code (a protocol's ``course_schedules``).
    start_date : date
        Earliest day of the course.
    working_weekdays : iterable of int
        Clinic working days, 0=Mon .. 6=Sun; at least 3 different days.
    count, interval_weeks : int
        ``iv_maintenance`` only, both required: sessions (1-52) and weeks between them (2-8).
    maintenance_weekly : bool
        ``esketamine_trd`` only: weekly instead of every 2 weeks from week 9.
    horizon_weeks : int, optional
        ``esketamine_trd`` only: how many weeks of the course to propose (4-52, default 16).

    Returns
    -------
    list of ProposedSession
        Numbered from 1, in date order.

    Raises
    ------
    ScheduleError
        Unknown pattern, a parameter out of range or not applicable to the pattern, fewer than
        3 working days, a weekday outside 0-6, or a pattern the working days cannot meet.
    """
    pattern = _pattern(protocol_code)
    start = _start_date(start_date)
    working = _working_weekdays(working_weekdays)
    if not isinstance(maintenance_weekly, bool):
        raise ScheduleError("maintenance_weekly", "must be true or false")
    try:
        return _propose(
            pattern, start, working, count, interval_weeks, maintenance_weekly, horizon_weeks
        )
    except OverflowError:
        raise ScheduleError("start_date", "is too far in the future to plan a course") from None


def _propose(
    pattern: SchedulePattern,
    start: date,
    working: frozenset[int],
    count: Any,
    interval_weeks: Any,
    weekly: bool,
    horizon_weeks: Any,
) -> list[ProposedSession]:
    if pattern.kind is ScheduleKind.INTERVAL:
        _refuse_unused(pattern, horizon_weeks=horizon_weeks, maintenance_weekly=weekly)
        if count is None:
            raise ScheduleError("count", f"how many sessions? required for “{pattern.label}”")
        if interval_weeks is None:
            raise ScheduleError("interval_weeks", f"required for “{pattern.label}”")
        return _interval_sessions(
            pattern,
            start,
            working,
            _in_range(count, "count", pattern.count),
            _in_range(interval_weeks, "interval_weeks", pattern.interval_weeks),
        )
    _refuse_unused(pattern, count=count, interval_weeks=interval_weeks)
    first = _first_working_day(start, working)
    if pattern.kind is ScheduleKind.SPREAD:
        _refuse_unused(pattern, horizon_weeks=horizon_weeks, maintenance_weekly=weekly)
        return _place(_spread_slots(pattern), pattern, first, working)
    if weekly and not any(phase.every_weeks_if_weekly for phase in pattern.phases):
        raise ScheduleError("maintenance_weekly", f"does not apply to “{pattern.label}”")
    if pattern.horizon_weeks is None:
        _refuse_unused(pattern, horizon_weeks=horizon_weeks)
        horizon = max(phase.to_week or 0 for phase in pattern.phases)
    elif horizon_weeks is None:
        horizon = pattern.horizon_weeks.default
    else:
        horizon = _in_range(horizon_weeks, "horizon_weeks", pattern.horizon_weeks)
    return _place(_phased_slots(pattern, horizon, weekly), pattern, first, working)
