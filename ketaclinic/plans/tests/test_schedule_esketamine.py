"""Esketamine: twice weekly weeks 1-4, weekly weeks 5-8, then every 2 weeks (or weekly)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.plans.schedule import ScheduleError, propose_schedule

MON_TO_FRI = [0, 1, 2, 3, 4]
START_DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
WORKING_WEEKS = st.sets(st.integers(0, 6), min_size=3)


def _weeks(sessions):
    """Sessions per course week, weeks counted from the first session (1-based)."""
    first = sessions[0].date
    return Counter((s.date - first).days // 7 + 1 for s in sessions)


def test_trd_defaults_to_16_weeks_with_its_three_phases():
    sessions = propose_schedule(
        "esketamine_trd", start_date=date(2026, 12, 7), working_weekdays=MON_TO_FRI
    )
    assert Counter(s.phase for s in sessions) == {
        "induction": 8,
        "optimization": 4,
        "maintenance": 4,
    }
    assert [s.date.strftime("%a %d %b") for s in sessions[:4]] == [
        "Mon 07 Dec",
        "Thu 10 Dec",
        "Mon 14 Dec",
        "Thu 17 Dec",
    ]
    maintenance_weeks = sorted(
        w for s, w in zip(sessions, _weeks_list(sessions), strict=True) if s.phase == "maintenance"
    )
    assert maintenance_weeks == [9, 11, 13, 15]


def _weeks_list(sessions):
    first = sessions[0].date
    return [(s.date - first).days // 7 + 1 for s in sessions]


def test_weekly_maintenance_on_request():
    sessions = propose_schedule(
        "esketamine_trd",
        start_date=date(2026, 12, 7),
        working_weekdays=MON_TO_FRI,
        maintenance_weekly=True,
    )
    assert sum(s.phase == "maintenance" for s in sessions) == 8


@pytest.mark.parametrize(("horizon_weeks", "total"), [(4, 8), (6, 10), (8, 12), (9, 13), (52, 34)])
def test_the_horizon_sets_how_many_weeks_are_proposed(horizon_weeks, total):
    sessions = propose_schedule(
        "esketamine_trd",
        start_date=date(2026, 12, 7),
        working_weekdays=MON_TO_FRI,
        horizon_weeks=horizon_weeks,
    )
    assert len(sessions) == total
    assert max(_weeks(sessions)) <= horizon_weeks


@pytest.mark.parametrize("horizon_weeks", [3, 53, 0, -1, 16.0])
def test_a_horizon_outside_4_to_52_weeks_is_refused(horizon_weeks):
    with pytest.raises(ScheduleError) as caught:
        propose_schedule(
            "esketamine_trd",
            start_date=date(2026, 12, 7),
            working_weekdays=MON_TO_FRI,
            horizon_weeks=horizon_weeks,
        )
    assert caught.value.field == "horizon_weeks"


def test_mdsi_is_twice_weekly_for_four_weeks_only():
    sessions = propose_schedule(
        "esketamine_mdsi", start_date=date(2026, 12, 7), working_weekdays=MON_TO_FRI
    )
    assert len(sessions) == 8
    assert {s.phase for s in sessions} == {"induction"}
    assert _weeks(sessions) == {1: 2, 2: 2, 3: 2, 4: 2}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon_weeks": 8}, "horizon_weeks"),
        ({"maintenance_weekly": True}, "maintenance_weekly"),
        ({"count": 8}, "count"),
        ({"interval_weeks": 2}, "interval_weeks"),
    ],
)
def test_mdsi_refuses_parameters_it_does_not_use(kwargs, field):
    with pytest.raises(ScheduleError) as caught:
        propose_schedule(
            "esketamine_mdsi", start_date=date(2026, 12, 7), working_weekdays=MON_TO_FRI, **kwargs
        )
    assert caught.value.field == field


def _check_common(sessions, start, working):
    dates = [s.date for s in sessions]
    first = start
    while first.weekday() not in working:
        first += timedelta(days=1)
    assert dates[0] == first
    assert all(d.weekday() in working for d in dates)
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(dates))
    assert [s.number for s in sessions] == list(range(1, len(sessions) + 1))


@settings(max_examples=120, deadline=None)
@given(
    start=START_DATES,
    working=WORKING_WEEKS,
    horizon_weeks=st.integers(4, 52),
    weekly=st.booleans(),
)
def test_for_any_start_and_working_week_trd_keeps_its_weekly_pattern(
    start, working, horizon_weeks, weekly
):
    sessions = propose_schedule(
        "esketamine_trd",
        start_date=start,
        working_weekdays=working,
        horizon_weeks=horizon_weeks,
        maintenance_weekly=weekly,
    )
    _check_common(sessions, start, working)
    per_week = _weeks(sessions)
    for week in range(1, horizon_weeks + 1):
        if week <= 4:
            expected, phase = 2, "induction"
        elif week <= 8:
            expected, phase = 1, "optimization"
        else:
            expected = 1 if weekly or (week - 9) % 2 == 0 else 0
            phase = "maintenance"
        assert per_week.get(week, 0) == expected, week
        week_phases = {
            s.phase for s, w in zip(sessions, _weeks_list(sessions), strict=True) if w == week
        }
        assert week_phases <= {phase}
    assert max(per_week) <= horizon_weeks


@settings(max_examples=100, deadline=None)
@given(start=START_DATES, working=WORKING_WEEKS)
def test_for_any_start_and_working_week_mdsi_gives_two_sessions_a_week(start, working):
    sessions = propose_schedule("esketamine_mdsi", start_date=start, working_weekdays=working)
    _check_common(sessions, start, working)
    assert _weeks(sessions) == {1: 2, 2: 2, 3: 2, 4: 2}
