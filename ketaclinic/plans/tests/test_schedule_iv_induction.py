"""IV induction: 6 infusions over 2-3 weeks, about 3 a week, never on consecutive days."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.plans.schedule import propose_schedule

MON_TO_FRI = [0, 1, 2, 3, 4]
START_DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
WORKING_WEEKS = st.sets(st.integers(0, 6), min_size=3)


def _induction(start, working=MON_TO_FRI):
    return propose_schedule("iv_induction", start_date=start, working_weekdays=working)


def test_a_monday_start_in_a_monday_to_friday_clinic_gives_mon_wed_fri_twice():
    sessions = _induction(date(2026, 12, 7))
    assert [s.date.isoformat() for s in sessions] == [
        "2026-12-07",
        "2026-12-09",
        "2026-12-11",
        "2026-12-14",
        "2026-12-16",
        "2026-12-18",
    ]
    assert sessions[0].as_dict() == {"number": 1, "date": "2026-12-07", "phase": "induction"}


def test_a_weekend_start_moves_the_first_session_to_monday():
    assert _induction(date(2026, 12, 5))[0].date == date(2026, 12, 7)


def test_a_three_consecutive_day_clinic_still_fits_six_sessions_in_20_days():
    # Tue, Wed, Thu: only Tue/Thu in a week; a Wednesday start is the hardest case.
    sessions = _induction(date(2026, 12, 9), [1, 2, 3])
    assert [s.date.strftime("%a") for s in sessions] == ["Wed", "Tue", "Thu", "Tue", "Thu", "Tue"]
    assert (sessions[-1].date - sessions[0].date).days == 20


@pytest.mark.parametrize("working", [[0, 2, 4], [5, 6, 0], list(range(7))])
def test_the_course_takes_six_sessions_all_called_induction(working):
    sessions = _induction(date(2027, 1, 1), working)
    assert [s.number for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert {s.phase for s in sessions} == {"induction"}


@settings(max_examples=200, deadline=None)
@given(start=START_DATES, working=WORKING_WEEKS)
def test_for_any_start_and_working_week_the_induction_constraints_hold(start, working):
    sessions = _induction(start, working)
    dates = [s.date for s in sessions]
    assert len(dates) == 6
    # First session: the start date if it is a working day, else the next working day.
    first = start
    while first.weekday() not in working:
        first += timedelta(days=1)
    assert dates[0] == first
    assert all(d.weekday() in working for d in dates)
    assert all((later - earlier).days >= 2 for earlier, later in itertools.pairwise(dates))
    # Seeds 000, 002: over 2-3 weeks; spread at about 3 a week, so at least 11 days.
    assert 11 <= (dates[-1] - dates[0]).days <= 20
    # Never more than 3 infusions in any 7 days.
    for anchor in dates:
        assert sum(anchor <= d < anchor + timedelta(days=7) for d in dates) <= 3
