"""Small pure helpers around ``schedule.py``: which inputs a pattern takes, and the calendar
strip the plan page draws (weeks as rows, Monday first).

Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ketaclinic.protocols.catalog import ScheduleKind, UnknownCodeError, get_schedule

from .schedule import ScheduleError

__all__ = ["CalendarWeek", "applicable_inputs", "calendar_strip"]

OPTIONAL_INPUTS = ("count", "interval_weeks", "horizon_weeks", "maintenance_weekly")


def applicable_inputs(protocol_code: str, given: dict[str, Any]) -> dict[str, Any]:
    """The optional inputs of ``given`` that pattern ``protocol_code`` uses; others dropped.

    Callers (the preview endpoint, plan forms) send every field; ``propose_schedule`` refuses
    ones that do not apply, so they are dropped here rather than refused.
    """
    try:
        pattern = get_schedule(protocol_code)
    except UnknownCodeError as error:
        raise ScheduleError("protocol", str(error)) from None
    used: set[str] = set()
    if pattern.kind is ScheduleKind.INTERVAL:
        used = {"count", "interval_weeks"}
    elif pattern.kind is ScheduleKind.PHASED:
        if pattern.horizon_weeks is not None:
            used.add("horizon_weeks")
        if any(phase.every_weeks_if_weekly for phase in pattern.phases):
            used.add("maintenance_weekly")
    return {name: given[name] for name in OPTIONAL_INPUTS if name in used and name in given}


@dataclass(frozen=True)
class CalendarWeek:
    """A row of the strip: the Monday, seven day cells, or a gap of empty weeks."""

    monday: dt.date
    days: tuple[tuple[dt.date, Any | None], ...] = ()
    skipped_weeks: int = 0

    @property
    def is_gap(self) -> bool:
        return self.skipped_weeks > 0


def calendar_strip(sessions: Iterable[Any], *, collapse_from: int = 2) -> list[CalendarWeek]:
    """Weeks from the first session's to the last's; ``collapse_from`` or more empty weeks in
    a row become one gap row (a single empty week stays, as in a calendar).

    ``sessions`` are objects with ``date`` (PlannedSession rows or ProposedSession).
    """
    items = sorted(sessions, key=lambda session: session.date)
    if not items:
        return []
    by_day: dict[dt.date, Any] = {}
    for session in items:
        by_day.setdefault(session.date, session)
    first = items[0].date - dt.timedelta(days=items[0].date.weekday())
    last = items[-1].date - dt.timedelta(days=items[-1].date.weekday())
    weeks: list[CalendarWeek] = []
    monday, empty = first, 0
    while monday <= last:
        days = tuple(
            (monday + dt.timedelta(days=i), by_day.get(monday + dt.timedelta(days=i)))
            for i in range(7)
        )
        if any(session is not None for _, session in days):
            weeks += _empty_run(monday, empty, collapse_from)
            empty = 0
            weeks.append(CalendarWeek(monday, days))
        else:
            empty += 1
        monday += dt.timedelta(weeks=1)
    return weeks


def _empty_run(before: dt.date, count: int, collapse_from: int) -> list[CalendarWeek]:
    """``count`` empty weeks ending the week before ``before``: one gap row, or each week."""
    if count == 0:
        return []
    first = before - dt.timedelta(weeks=count)
    if count >= collapse_from:
        return [CalendarWeek(first, skipped_weeks=count)]
    return [
        CalendarWeek(
            first + dt.timedelta(weeks=n),
            tuple((first + dt.timedelta(weeks=n, days=i), None) for i in range(7)),
        )
        for n in range(count)
    ]
