"""Finding a place for a visit on a day: pure, over plain intervals.

The database refuses overlaps whatever this says; this module finds the first placement
that will be accepted, or says specifically why there is none, so the front desk can act.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Resource:
    """A chair or a staff lane: when it may be used and when it is already taken."""

    id: int
    available: tuple[Interval, ...]
    busy: tuple[Interval, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Day:
    """Everything needed to place one visit on one day."""

    open: Interval | None
    minutes: int
    step_minutes: int
    chairs: tuple[Resource, ...]
    lanes: tuple[Resource, ...]
    # Windows with a prescriber on site; None when the visit does not need one.
    prescriber_on_site: tuple[Interval, ...] | None = None
    closed_reason: str = ""
    not_before: dt.datetime | None = None
    needs_chair: bool = True
    # The patient's own visits that day: one person is never in two visits at once.
    patient_busy: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class Placement:
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    lane_id: int


@dataclass(frozen=True)
class NoPlacement:
    reason: str


@dataclass
class Tally:
    """Which requirement failed how often, to explain an empty day."""

    counts: dict[str, int] = field(default_factory=dict)

    def miss(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1

    def explain(self) -> str:
        # The requirement that failed last in the checking order is the closest miss.
        for reason in (
            "no prescriber on site",
            "no staff free",
            "no chair free",
            "patient busy",
        ):
            if reason in self.counts:
                return REASONS[reason]
        return "no time fits inside opening hours"


REASONS = {
    "no chair free": "every suitable chair is booked at the times staff are free",
    "no staff free": "no staff member with the right role is free while a chair is",
    "no prescriber on site": "no prescriber is on site for the whole visit",
    "patient busy": "the patient has other visits at every time that is free",
}


def covers(windows: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(w_start <= start and end <= w_end for w_start, w_end in windows)


def free(busy: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return all(end <= b_start or b_end <= start for b_start, b_end in busy)


def usable(resource: Resource, start: dt.datetime, end: dt.datetime) -> bool:
    return covers(resource.available, start, end) and free(resource.busy, start, end)


def candidate_starts(day: Day) -> list[dt.datetime]:
    opens, closes = day.open
    step = dt.timedelta(minutes=day.step_minutes)
    length = dt.timedelta(minutes=day.minutes)
    start = opens
    if day.not_before is not None and day.not_before > opens:
        # Round up to the booking grid so visits stay on it.
        steps = -(-(day.not_before - opens) // step)
        start = opens + steps * step
    starts = []
    while start + length <= closes:
        starts.append(start)
        start += step
    return starts


def first_placement(day: Day) -> Placement | NoPlacement:
    """The earliest start with a free chair, a free staff lane and cover where needed."""
    if day.open is None:
        return NoPlacement(
            f"the clinic is closed{': ' + day.closed_reason if day.closed_reason else ''}"
        )
    if not day.lanes:
        return NoPlacement("no staff member with the right role works that day")
    if day.needs_chair and not day.chairs:
        return NoPlacement("the clinic has no suitable chair or room")
    tally = Tally()
    length = dt.timedelta(minutes=day.minutes)
    for start in candidate_starts(day):
        placement = place_at(day, start, start + length, tally)
        if placement is not None:
            return placement
    return NoPlacement(tally.explain())


def place_at(day: Day, start: dt.datetime, end: dt.datetime, tally: Tally) -> Placement | None:
    if not free(day.patient_busy, start, end):
        tally.miss("patient busy")
        return None
    chair = None
    if day.needs_chair:
        chair = next((c for c in day.chairs if usable(c, start, end)), None)
        if chair is None:
            tally.miss("no chair free")
            return None
    lane = next((lane for lane in day.lanes if usable(lane, start, end)), None)
    if lane is None:
        tally.miss("no staff free")
        return None
    if day.prescriber_on_site is not None and not covers(day.prescriber_on_site, start, end):
        tally.miss("no prescriber on site")
        return None
    return Placement(start, end, chair.id if chair else None, lane.id)


def check_placement(
    day: Day, start: dt.datetime, chair_id: int | None, lane_id: int | None
) -> str | None:
    """Why a chosen placement cannot be booked, or None when it can."""
    end = start + dt.timedelta(minutes=day.minutes)
    if day.open is None:
        return "the clinic is closed that day"
    if not (day.open[0] <= start and end <= day.open[1]):
        return "the visit is not inside opening hours"
    if not free(day.patient_busy, start, end):
        return "the patient has another visit then"
    if day.needs_chair:
        if chair_id is None:
            return "no suitable chair is free then"
        chair = next((c for c in day.chairs if c.id == chair_id), None)
        if chair is None:
            return "that chair is not suitable for this visit"
        if not free(chair.busy, start, end):
            return f"{chair.label or 'the chair'} is booked then"
    if lane_id is None:
        return "no staff member with the right role is free then"
    lane = next((lane for lane in day.lanes if lane.id == lane_id), None)
    if lane is None:
        return "that staff member does not have the right role or does not work that day"
    if not covers(lane.available, start, end):
        return f"{lane.label or 'the staff member'} is not working then"
    if not free(lane.busy, start, end):
        return f"{lane.label or 'the staff member'} is fully booked then"
    if day.prescriber_on_site is not None and not covers(day.prescriber_on_site, start, end):
        return "no prescriber is on site for the whole visit"
    return None


def subtract(windows: Sequence[Interval], holes: Sequence[Interval]) -> tuple[Interval, ...]:
    """``windows`` with the ``holes`` (absences) cut out."""
    result = list(windows)
    for h_start, h_end in holes:
        cut: list[Interval] = []
        for w_start, w_end in result:
            if h_end <= w_start or w_end <= h_start:
                cut.append((w_start, w_end))
                continue
            if w_start < h_start:
                cut.append((w_start, h_start))
            if h_end < w_end:
                cut.append((h_end, w_end))
        result = cut
    return tuple(result)
