"""Laying appointments out on a time grid for the day and week views (pure).

Visits that overlap in one column (a staff member's busy morning) sit side by side, each
in its own track; visits clear of any overlap keep the column's full width. A column is
never narrower than its tracks at a readable width (``TRACK_MIN_REM`` each): the timeline
scrolls sideways instead of squeezing visits into slivers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Narrowest readable visit block (time, name, visit type), and narrowest column, in rem.
TRACK_MIN_REM = 5.5
COLUMN_MIN_REM = 7.0


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
    """Place visits on the grid; each run of overlapping visits shares its column in tracks."""
    rows = sorted(
        ((*grid.place(start_of(v), end_of(v)), v) for v in visits), key=lambda r: (r[0], -r[1])
    )
    return [block for run in overlapping_runs(rows) for block in tracked(run)]


def overlapping_runs(rows: Sequence[tuple[int, int, object]]) -> Iterable[list[tuple]]:
    """Split (row, span, visit) sorted by row into runs linked by overlaps."""
    run: list[tuple] = []
    run_end = 0
    for row, span, visit in rows:
        if run and row >= run_end:
            yield run
            run = []
        run_end = max(run_end, row + span) if run else row + span
        run.append((row, span, visit))
    if run:
        yield run


def tracked(run: Sequence[tuple[int, int, object]]) -> list[Block]:
    """Give each visit of an overlapping run the first track free at its start."""
    track_ends: list[int] = []
    placed = []
    for row, span, visit in run:
        track = next((i for i, end in enumerate(track_ends) if end <= row), len(track_ends))
        if track == len(track_ends):
            track_ends.append(row + span)
        else:
            track_ends[track] = row + span
        placed.append((visit, row, span, track))
    tracks = max(1, len(track_ends))
    return [Block(visit, row, span, track, tracks) for visit, row, span, track in placed]


@dataclass(frozen=True)
class Column:
    """A timeline column: its heading (a chair, a person or a day) and its visits."""

    title: object
    blocks: list[Block] = field(default_factory=list)

    @property
    def tracks(self) -> int:
        return max((block.tracks for block in self.blocks), default=1)

    @property
    def min_width_rem(self) -> float:
        return max(COLUMN_MIN_REM, self.tracks * TRACK_MIN_REM)


def column_widths(columns: Sequence[Column]) -> str:
    """CSS ``grid-template-columns``: the times, then each column at least readable."""
    return " ".join(["4rem", *(f"minmax({c.min_width_rem:g}rem, 1fr)" for c in columns)])
