"""Laying visits out on the calendar grid (pure): overlapping visits share their column side by
side, visits clear of any overlap keep its full width, and a column with side-by-side visits
is wide enough for each to stay readable."""

from __future__ import annotations

import datetime as dt

from ketaclinic.scheduling import calendar

GRID = calendar.Grid(dt.time(8), dt.time(18), 15)


def visit(start: str, end: str) -> tuple[dt.time, dt.time]:
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def layout(*visits) -> dict[tuple, tuple[int, int]]:
    placed = calendar.blocks(GRID, visits, lambda v: v[0], lambda v: v[1])
    return {block.item: (block.track, block.tracks) for block in placed}


def test_a_visit_alone_takes_the_whole_column():
    assert layout(visit("09:00", "10:00")) == {visit("09:00", "10:00"): (0, 1)}


def test_overlapping_visits_sit_side_by_side_and_later_ones_keep_the_full_width():
    morning = [visit("08:00", "09:45"), visit("08:00", "09:45"), visit("08:00", "09:45")]
    noon = visit("11:30", "13:30")
    placed = calendar.blocks(GRID, [*morning, noon], lambda v: v[0], lambda v: v[1])

    assert [(b.track, b.tracks) for b in placed[:3]] == [(0, 3), (1, 3), (2, 3)]
    assert (placed[3].track, placed[3].tracks, placed[3].width_pct) == (0, 1, 100.0)


def test_a_chain_of_overlaps_is_one_run():
    placed = layout(visit("08:00", "09:00"), visit("08:30", "10:00"), visit("09:30", "10:30"))

    # 08:00 and 09:30 do not overlap: they share a track; 08:30 overlaps both.
    assert placed == {
        visit("08:00", "09:00"): (0, 2),
        visit("08:30", "10:00"): (1, 2),
        visit("09:30", "10:30"): (0, 2),
    }


def test_visits_back_to_back_do_not_overlap():
    placed = layout(visit("08:00", "09:00"), visit("09:00", "10:00"))

    assert set(placed.values()) == {(0, 1)}


def test_a_column_is_wide_enough_for_its_tracks():
    three = calendar.blocks(GRID, [visit("08:00", "09:00")] * 3, lambda v: v[0], lambda v: v[1])
    columns = [calendar.Column("Mon", three), calendar.Column("Tue", [])]

    assert columns[0].min_width_rem == 3 * calendar.TRACK_MIN_REM
    assert columns[1].min_width_rem == calendar.COLUMN_MIN_REM
    assert calendar.column_widths(columns) == "4rem minmax(16.5rem, 1fr) minmax(7rem, 1fr)"
