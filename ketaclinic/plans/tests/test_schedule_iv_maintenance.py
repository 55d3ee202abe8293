"""IV maintenance: one infusion every 2-8 weeks, on the nearest working day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.plans.schedule import ScheduleError, propose_schedule

MON_TO_FRI = [0, 1, 2, 3, 4]


def _maintenance(start, *, count=4, interval_weeks=4, working=MON_TO_FRI, **extra):
    return propose_schedule(
        "iv_maintenance",
        start_date=start,
        working_weekdays=working,
        count=count,
        interval_weeks=interval_weeks,
        **extra,
    )


def test_sessions_fall_every_interval_from_the_start_date():
    sessions = _maintenance(date(2026, 12, 7), count=3, interval_weeks=4)
    assert [(s.number, s.date.isoformat(), s.phase) for s in sessions] == [
        (1, "2026-12-07", "maintenance"),
        (2, "2027-01-04", "maintenance"),
        (3, "2027-02-01", "maintenance"),
    ]


def test_a_saturday_goes_to_friday_and_a_sunday_to_monday():
    # Weekend starts put the second session (2 weeks on) on a weekend too.
    saturday_start = _maintenance(date(2026, 12, 5), count=2, interval_weeks=2)
    assert saturday_start[1].date == date(2026, 12, 18)  # Sat 19th -> Fri 18th (1 day)
    sunday_start = _maintenance(date(2026, 12, 6), count=2, interval_weeks=2)
    assert sunday_start[1].date == date(2026, 12, 21)  # Sun 20th -> Mon 21st (1 day)


def test_a_tie_between_two_working_days_goes_to_the_earlier_one():
    # Mon/Wed/Fri clinic, nominal date a Tuesday: Monday and Wednesday are both 1 day away.
    sessions = _maintenance(date(2026, 12, 1), count=2, interval_weeks=2, working=[0, 2, 4])
    assert sessions[1].date == date(2026, 12, 14)  # Tue 15th -> Mon 14th


def test_the_first_session_is_never_before_the_start_date():
    # Saturday start: Friday is nearer, but before the start; Monday it is.
    assert _maintenance(date(2026, 12, 5))[0].date == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"interval_weeks": 1}, "interval_weeks"),
        ({"interval_weeks": 9}, "interval_weeks"),
        ({"interval_weeks": None}, "interval_weeks"),
        ({"interval_weeks": 2.5}, "interval_weeks"),
        ({"count": 0}, "count"),
        ({"count": 53}, "count"),
        ({"count": None}, "count"),
        ({"count": "4"}, "count"),
        ({"horizon_weeks": 16}, "horizon_weeks"),
        ({"maintenance_weekly": True}, "maintenance_weekly"),
    ],
)
def test_out_of_range_or_inapplicable_parameters_are_refused(kwargs, field):
    with pytest.raises(ScheduleError) as caught:
        _maintenance(date(2026, 12, 7), **kwargs)
    assert caught.value.field == field


def _distance(day, nominal):
    return abs((day - nominal).days)


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    working=st.sets(st.integers(0, 6), min_size=3),
    count=st.integers(1, 52),
    interval_weeks=st.integers(2, 8),
)
def test_each_session_is_the_nearest_working_day_to_its_planned_date(
    start, working, count, interval_weeks
):
    sessions = _maintenance(start, count=count, interval_weeks=interval_weeks, working=working)
    assert len(sessions) == count
    for index, session in enumerate(sessions):
        nominal = start + timedelta(weeks=index * interval_weeks)
        assert session.date >= start
        assert session.date.weekday() in working
        candidates = [
            nominal + timedelta(days=shift)
            for shift in range(-6, 7)
            if (nominal + timedelta(days=shift)).weekday() in working
            and nominal + timedelta(days=shift) >= start
        ]
        best = min(candidates, key=lambda day, n=nominal: (_distance(day, n), day))
        assert session.date == best
    dates = [s.date for s in sessions]
    assert dates == sorted(set(dates))
