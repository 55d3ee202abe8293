"""Laying appointments out on a time grid for the day and week views (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """An appointment on the grid: rows in ``step`` minutes from ``first``; overlapping
    visits in one column sit side by side in ``tracks`` equal tracks."""

    item: object
    row: int
    span: int
    track: int = 0
    tracks: int = 1

    @property
    def width_pct(self) -> float:
        return round(100 / self.tracks, 3)

    @property
    def offset_pct(self) -> float:
        return round(100 * self.track / self.tracks, 3)


@dataclass(frozen=True)
class Grid:
    first: dt.time
    last: dt.time
    step_minutes: int

    @property
    def rows(self) -> list[dt.time]:
        times, minutes = [], minutes_of(self.first)
        while minutes < minutes_of(self.last):
            times.append(dt.time(minutes // 60, minutes % 60))
            minutes += self.step_minutes
        return times

    def place(self, start: dt.time, end: dt.time) -> tuple[int, int]:
        """Grid row (1-based, after the header row) and span of a visit, clipped to the grid."""
        top = max(minutes_of(start), minutes_of(self.first))
        bottom = min(minutes_of(end) if end > start else 24 * 60, minutes_of(self.last))
        row = (top - minutes_of(self.first)) // self.step_minutes + 2
        span = max(1, -(-(bottom - top) // self.step_minutes))
        return row, span


def minutes_of(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def grid_for(opening: Sequence[tuple[dt.time, dt.time]], step_minutes: int) -> Grid:
    """A grid covering every opening window given (or office hours when there are none)."""
    if not opening:
        return Grid(dt.time(8), dt.time(18), step_minutes)
    return Grid(min(o for o, _ in opening), max(c for _, c in opening), step_minutes)


def blocks(grid: Grid, visits: Iterable, start_of, end_of) -> list[Block]:
    """Place visits on the grid, giving overlapping ones separate tracks (first fit)."""
    rows = sorted(
        ((*grid.place(start_of(v), end_of(v)), v) for v in visits), key=lambda r: (r[0], -r[1])
    )
    track_ends: list[int] = []
    tracked = []
    for row, span, visit in rows:
        track = next((i for i, end in enumerate(track_ends) if end <= row), len(track_ends))
        if track == len(track_ends):
            track_ends.append(row + span)
        else:
            track_ends[track] = row + span
        tracked.append((visit, row, span, track))
    tracks = max(1, len(track_ends))
    return [Block(visit, row, span, track, tracks) for visit, row, span, track in tracked]
