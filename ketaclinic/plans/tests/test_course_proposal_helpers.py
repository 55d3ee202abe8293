"""Pure helpers around the schedule: which inputs a pattern takes, and the calendar strip."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.plans.proposal import applicable_inputs, calendar_strip
from ketaclinic.plans.schedule import ProposedSession, ScheduleError, propose_schedule

EVERYTHING = {"count": 3, "interval_weeks": 4, "horizon_weeks": 16, "maintenance_weekly": True}


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ("iv_induction", {}),
        ("iv_maintenance", {"count": 3, "interval_weeks": 4}),
        ("esketamine_trd", {"horizon_weeks": 16, "maintenance_weekly": True}),
        ("esketamine_mdsi", {}),
    ],
)
def test_only_the_inputs_a_pattern_uses_are_kept(code, kept):
    assert applicable_inputs(code, EVERYTHING) == kept


def test_an_unknown_pattern_names_the_protocol_field():
    with pytest.raises(ScheduleError) as caught:
        applicable_inputs("iv_weekly", EVERYTHING)

    assert caught.value.field == "protocol"


def test_the_strip_has_a_row_per_week_monday_first():
    sessions = propose_schedule(
        "iv_induction", start_date=dt.date(2026, 12, 9), working_weekdays=[0, 1, 2, 3, 4]
    )

    strip = calendar_strip(sessions)

    assert [week.monday for week in strip] == [
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 14),
        dt.date(2026, 12, 21),
    ]
    placed = [s.number for week in strip for _, s in week.days if s is not None]
    assert placed == [1, 2, 3, 4, 5, 6]
    assert all(len(week.days) == 7 for week in strip)


def test_long_empty_stretches_fold_into_one_gap_row_but_a_single_week_stays():
    day = dt.date(2026, 12, 7)
    sessions = [
        ProposedSession(1, day, "maintenance"),
        ProposedSession(2, day + dt.timedelta(weeks=2), "maintenance"),
        ProposedSession(3, day + dt.timedelta(weeks=8), "maintenance"),
    ]

    strip = calendar_strip(sessions)

    assert [(w.is_gap, w.skipped_weeks) for w in strip] == [
        (False, 0),
        (False, 0),  # the one empty week between sessions 1 and 2
        (False, 0),
        (True, 5),
        (False, 0),
    ]


def test_no_sessions_no_strip():
    assert calendar_strip([]) == []
