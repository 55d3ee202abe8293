"""Every working week of 3 or more days can hold every pattern, from any start weekday.

There are only 99 working weeks with at least 3 days and 7 start weekdays, so this checks
them all rather than sampling: a proof by exhaustion that no such week is impossible.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, timedelta

import pytest

from ketaclinic.plans import schedule
from ketaclinic.plans.schedule import ScheduleError, propose_schedule

WORKING_WEEKS = [days for size in range(3, 8) for days in itertools.combinations(range(7), size)]
MONDAY = date(2026, 12, 7)


def test_there_are_99_working_weeks_of_three_days_or_more():
    assert len(WORKING_WEEKS) == 99


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("iv_induction", {}),
        ("esketamine_mdsi", {}),
        ("esketamine_trd", {"horizon_weeks": 52}),
        ("esketamine_trd", {"horizon_weeks": 52, "maintenance_weekly": True}),
        ("iv_maintenance", {"count": 52, "interval_weeks": 2}),
    ],
)
def test_every_working_week_and_start_weekday_can_be_scheduled(code, extra):
    for working in WORKING_WEEKS:
        for shift in range(7):
            sessions = propose_schedule(
                code, start_date=MONDAY + timedelta(days=shift), working_weekdays=working, **extra
            )
            dates = [s.date for s in sessions]
            assert all(d.weekday() in working for d in dates), (working, shift)
            assert all((b - a).days >= 2 for a, b in itertools.pairwise(dates))


def test_a_pattern_the_working_days_cannot_meet_is_refused_clearly(monkeypatch):
    # Shrink the induction span to 8 days: a Tue/Wed/Thu clinic cannot fit 6 sessions.
    tight = dataclasses.replace(schedule.get_schedule("iv_induction"), max_span_days=8)
    monkeypatch.setattr(schedule, "get_schedule", lambda code: tight)
    with pytest.raises(ScheduleError) as caught:
        propose_schedule("iv_induction", start_date=MONDAY, working_weekdays=[1, 2, 3])
    assert caught.value.field == "working_weekdays"
    assert "cannot fit" in caught.value.message
    assert "Tue, Wed, Thu" in caught.value.message
