"""When measures are due (outcomes/schedule.py): pure, over plain dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml

from ketaclinic.outcomes import schedule
from ketaclinic.outcomes.schedule import CourseSession, PolicyError, measures_due, parse_policy

MONDAY = date(2026, 1, 5)


def course(days, phase="induction"):
    phases = phase if isinstance(phase, list | tuple) else [phase] * len(days)
    return [
        CourseSession(n, MONDAY + timedelta(days=d), p)
        for n, (d, p) in enumerate(zip(days, phases, strict=True), 1)
    ]


def reasons(measures):
    return [(m.reason, (m.due_on - MONDAY).days) for m in measures]


def test_an_iv_series_gets_baseline_pre_session_and_both_24_hour_measures():
    due = measures_due(course([0, 2, 4, 7, 9, 11]), ["phq9"])

    assert reasons(due) == [
        ("baseline", 0),
        ("after_first_induction", 2),  # kept over session 2's pre-session measure (same day)
        ("pre_session", 4),
        ("pre_session", 7),
        ("pre_session", 9),
        ("pre_session", 11),
        ("after_last_induction", 13),
        ("follow_up", 43),  # 28, 56 and 84 days after the last session, 4 days' window
        ("follow_up", 71),
        ("follow_up", 99),
    ]


def test_the_baseline_window_opens_two_weeks_before_the_first_session():
    baseline = measures_due(course([0, 2]), ["phq9"])[0]

    assert (baseline.opens_on, baseline.due_on) == (MONDAY - timedelta(days=14), MONDAY)


def test_the_24_hour_measures_open_the_day_after_the_session():
    due = {m.reason: m for m in measures_due(course([0, 7, 14]), ["phq9"])}

    assert due["after_first_induction"].opens_on == MONDAY + timedelta(days=1)
    assert due["after_last_induction"].opens_on == MONDAY + timedelta(days=15)


def test_weekly_measures_fill_induction_weeks_without_sessions():
    due = measures_due(course([0, 21]), ["phq9"])

    assert [r for r in reasons(due) if r[0] == "weekly_induction"] == [
        ("weekly_induction", 11),
        ("weekly_induction", 18),
    ]


def test_twice_weekly_sessions_need_no_extra_weekly_measure():
    due = measures_due(course([0, 3, 7, 10, 14, 17, 21, 24]), ["phq9"])

    assert "weekly_induction" not in {m.reason for m in due}


def test_monthly_measures_fill_long_gaps_in_maintenance():
    due = measures_due(course([0, 56, 112], "maintenance"), ["phq9"])

    monthly = [d for r, d in reasons(due) if r == "monthly_maintenance"]
    assert monthly == [33, 89]
    assert "follow_up" not in {m.reason for m in due}


def test_sessions_every_two_weeks_in_maintenance_need_no_monthly_measure():
    due = measures_due(course([0, 14, 28, 42, 56], "maintenance"), ["phq9"])

    assert "monthly_maintenance" not in {m.reason for m in due}


def test_each_instrument_gets_its_own_measures():
    due = measures_due(course([0, 2]), ["pcl5", "phq9"])

    assert {m.instrument for m in due} == {"pcl5", "phq9"}
    assert len(due) == 2 * len(measures_due(course([0, 2]), ["phq9"]))


def test_no_sessions_no_measures():
    assert measures_due([], ["phq9"]) == []


@pytest.mark.parametrize(
    ("today", "state"),
    [(-15, "upcoming"), (-14, "due"), (0, "due"), (1, "overdue")],
)
def test_a_measure_is_upcoming_then_due_then_overdue(today, state):
    baseline = measures_due(course([0, 2]), ["phq9"])[0]

    assert baseline.state_on(MONDAY + timedelta(days=today)) == state
    assert baseline.state_on(MONDAY, done=True) == "done"


def test_the_shipped_policy_names_the_primary_instrument_per_indication():
    policy = schedule.shipped_policy()

    assert policy.primary_instrument("trd") == "phq9"
    assert policy.primary_instrument("ptsd") == "pcl5"
    assert policy.primary_instrument("anxiety") == "gad7"
    assert policy.primary_instrument("unknown") == "phq9"


def test_every_occasion_names_its_basis_and_unverified_values_are_marked():
    policy = schedule.shipped_policy()

    assert all(o.basis for o in policy.occasions.values())
    assert any("[U]" in o.basis for o in policy.occasions.values())


def test_a_window_that_opens_after_it_is_due_is_refused():
    data = yaml.safe_load(schedule.POLICY_PATH.read_text())
    data["occasions"]["baseline"]["opens_days"] = 3
    with pytest.raises(PolicyError, match="opens after it is due"):
        parse_policy(data)


def test_a_missing_occasion_is_refused():
    data = yaml.safe_load(schedule.POLICY_PATH.read_text())
    del data["occasions"]["monthly_maintenance"]
    with pytest.raises(PolicyError, match="occasions"):
        parse_policy(data)
