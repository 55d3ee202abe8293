"""The cohort table on hand-built courses (DB rows), checked against hand-computed values and,
on random courses, against the pure functions of outcomes/scoring.py.

Course A (patient A, PHQ-9), six IV infusions from Monday 3 March 2025 (day 0):
    sessions day 0, 2, 4, 7, 9, 11;  scores day -3: 18, 0: 20 (baseline), 4: 14,
    7: 10 (first response), 11: 6, 12: 6 (current: latest up to 7 days after the last
    session), 39: 8, 67: 14 (relapse, 56 days after the last induction session).
Course B (patient B, PHQ-9), same sessions: day -1: 16, 5: 7, 12: 3 (remission), 40: 4
    (still responding: censored at 29 days).
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from ketaclinic.analytics.clinic_days import local_days, to_date, to_day
from ketaclinic.analytics.cohort import CohortFilter, build_cohort
from ketaclinic.conftest import make_patient
from ketaclinic.outcomes import scoring
from ketaclinic.outcomes.schedule import shipped_policy
from ketaclinic.outcomes.tests.factories import give_sessions, make_plan, scores, today

DAY_0 = dt.date(2025, 3, 3)


def day(n: int) -> dt.date:
    return DAY_0 + dt.timedelta(days=n)


@pytest.fixture
def courses(patient_a, patient_b, prescriber, nurse):
    a = make_plan(patient_a, prescriber, start=DAY_0)
    give_sessions(a, nurse)
    scores(
        patient_a,
        "phq9",
        nurse,
        *[
            (day(n), t)
            for n, t in [(-3, 18), (0, 20), (4, 14), (7, 10), (11, 6), (12, 6), (39, 8), (67, 14)]
        ],
    )
    b = make_plan(patient_b, prescriber, start=DAY_0)
    give_sessions(b, nurse)
    scores(
        patient_b, "phq9", nurse, *[(day(n), t) for n, t in [(-1, 16), (5, 7), (12, 3), (40, 4)]]
    )
    return a, b


def row_of(cohort, plan) -> dict:
    return next(r for r in cohort.rows() if r["plan_id"] == plan.pk)


def test_course_a_baseline_current_change_and_response(courses):
    a, _ = courses
    row = row_of(build_cohort(), a)

    assert (row["baseline"], row["baseline_date"]) == (20, day(0))
    assert (row["current"], row["current_date"]) == (6, day(12))
    assert row["change_pct"] == -70.0
    assert (row["response"], row["remission"]) == (True, False)
    assert (row["time_to_response_days"], row["time_to_response_sessions"]) == (7, 3)
    assert (row["durability_days"], row["relapsed"]) == (56, True)
    assert row["sessions"] == 6
    assert row["complete_measurement"] is True
    assert (row["indication"], row["route"], row["instrument"]) == ("trd", "iv", "phq9")


def test_course_b_remits_and_is_censored_while_still_responding(courses):
    _, b = courses
    row = row_of(build_cohort(), b)

    assert (row["baseline"], row["current"]) == (16, 3)
    assert row["change_pct"] == -81.3  # -81.25 rounded half up, as scoring.change does
    assert (row["response"], row["remission"]) == (True, True)
    assert (row["time_to_response_days"], row["time_to_response_sessions"]) == (5, 3)
    assert (row["durability_days"], row["relapsed"]) == (29, False)


def test_a_course_without_a_baseline_is_not_evaluable(patient_a, prescriber, nurse):
    plan = make_plan(patient_a, prescriber, start=DAY_0)
    give_sessions(plan, nurse)
    scores(patient_a, "phq9", nurse, (day(3), 15), (day(12), 5))

    cohort = build_cohort()
    row = row_of(cohort, plan)

    assert row["baseline"] is None
    assert row["response"] is None
    assert row["remission"] is None
    assert row["complete_measurement"] is False
    assert not cohort.evaluable.any()


def test_a_pcl5_course_has_a_10_point_response_and_no_remission(patient_a, prescriber, nurse):
    plan = make_plan(patient_a, prescriber, start=DAY_0, indication="ptsd")
    give_sessions(plan, nurse)
    scores(patient_a, "pcl5", nurse, (day(0), 50), (day(12), 41))

    row = row_of(build_cohort(), plan)

    assert (row["instrument"], row["baseline"], row["current"]) == ("pcl5", 50, 41)
    assert (row["response"], row["remission"]) == (False, None)


def test_a_second_course_ends_the_first_ones_window(courses, patient_a, prescriber, nurse):
    a, _ = courses
    again = make_plan(patient_a, prescriber, start=day(60))
    give_sessions(again, nurse)
    scores(patient_a, "phq9", nurse, (day(59), 19), (day(72), 9))

    cohort = build_cohort()
    first, second = row_of(cohort, a), row_of(cohort, again)

    # The first course's window ends where the second starts (day 60): its last score is the
    # second course's baseline (day 59: 19), a relapse 48 days after the last induction session.
    assert (first["durability_days"], first["relapsed"]) == (48, True)
    # The second course's baseline is day 59 (19); day 72 (9) is a 50% fall.
    assert (second["baseline"], second["current"], second["response"]) == (19, 9, True)


def test_a_course_not_started_is_counted_but_not_evaluable(patient_a, prescriber):
    plan = make_plan(patient_a, prescriber, start=today() + dt.timedelta(days=10), status="active")

    row = row_of(build_cohort(), plan)

    assert row["sessions"] == 0
    assert row["baseline"] is None
    assert row["response"] is None


def test_filters_select_courses(courses, patient_a, prescriber, nurse):
    ptsd = make_plan(patient_a, prescriber, start=day(100), indication="ptsd", route="im")

    assert set(build_cohort(CohortFilter(indication="ptsd")).plan_id) == {ptsd.pk}
    assert set(build_cohort(CohortFilter(route="iv")).plan_id) == {p.pk for p in courses}
    assert len(build_cohort(CohortFilter(start=day(1)))) == 1
    assert len(build_cohort(CohortFilter(end=day(1)))) == 2
    assert len(build_cohort(CohortFilter(prescriber_id=prescriber.pk + 99))) == 0


def test_draft_and_entered_in_error_plans_are_not_courses(patient_a, prescriber):
    make_plan(patient_a, prescriber, start=DAY_0, status="entered-in-error")

    assert len(build_cohort()) == 0


# --- random courses against the pure functions --------------------------------------------


def pure_row(code: str, pairs, sessions, last_induction, window_end):
    """What outcomes/scoring.py says for the course's scores in its window."""
    policy = shipped_policy()
    first = min(sessions)
    window = [
        scoring.DatedScore(d, t)
        for d, t in pairs
        if first - dt.timedelta(days=policy.baseline_lookback_days) <= d
        and (window_end is None or d < window_end)
    ]
    until = max(sessions) + dt.timedelta(days=policy.outcome_after_last_session_days)
    baseline = scoring.course_baseline(window, sessions)
    current = scoring.course_current([s for s in window if s.on <= until])
    evaluable = baseline is not None and current is not None and current.on > first
    change = scoring.change(code, baseline.total, current.total) if evaluable else None
    ttr = scoring.time_to_response(code, window, sessions)
    durable = scoring.durability(code, window, sessions, last_induction_session=last_induction)
    return {
        "baseline": baseline.total if baseline else None,
        "current": current.total if current else None,
        "response": change.response if change else None,
        "remission": change.remission if change else None,
        "change_pct": change.change_pct if change else None,
        "time_to_response_days": ttr.days if ttr else None,
        "time_to_response_sessions": ttr.sessions if ttr else None,
        "durability_days": durable.days if durable else None,
        "relapsed": durable.event_observed if durable else None,
    }


@pytest.mark.parametrize("seed", range(4))
def test_random_courses_match_the_pure_functions(seed, prescriber, nurse):
    rng = random.Random(seed)
    expected = {}
    for k in range(6):
        patient = make_patient(f"P{seed}x{k}", "Random")
        indication, code = rng.choice([("trd", "phq9"), ("ptsd", "pcl5"), ("anxiety", "gad7")])
        high = {"phq9": 27, "pcl5": 80, "gad7": 21}[code]
        starts = [DAY_0 + dt.timedelta(days=rng.randint(0, 20))]
        if rng.random() < 0.4:
            starts.append(starts[0] + dt.timedelta(days=rng.randint(20, 90)))
        plans = []
        for start in starts:
            offsets = sorted(rng.sample(range(0, 25), rng.randint(2, 7)))
            plan = make_plan(
                patient, prescriber, start=start, indication=indication, days=tuple(offsets)
            )
            give_sessions(plan, nurse)
            plans.append((plan, [start + dt.timedelta(days=o) for o in offsets]))
        score_days = sorted(rng.sample(range(-40, 150), rng.randint(0, 14)))
        pairs = [(DAY_0 + dt.timedelta(days=d), rng.randint(0, high)) for d in score_days]
        scores(patient, code, nurse, *pairs)
        for index, (plan, sessions) in enumerate(plans):
            window_end = plans[index + 1][1][0] if index + 1 < len(plans) else None
            # Windows end at the next plan's start date; here the first session is on it.
            expected[plan.pk] = pure_row(code, pairs, sessions, max(sessions), window_end)

    cohort = build_cohort()

    for row in cohort.rows():
        want = expected[row["plan_id"]]
        got = {key: row[key] for key in want}
        assert got == want, (seed, row["plan_id"])


# --- clinic-local days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        ("2026-03-08T06:59:00", "2026-03-08"),  # 01:59 EST
        ("2026-03-08T07:30:00", "2026-03-08"),  # 03:30 EDT, after the spring change
        ("2026-03-09T03:59:00", "2026-03-08"),  # 23:59 EDT
        ("2026-03-09T04:00:00", "2026-03-09"),
        ("2026-11-01T04:30:00", "2026-11-01"),  # 00:30 EDT
        ("2026-11-02T04:59:00", "2026-11-01"),  # 23:59 EST, after the autumn change
        ("2026-11-02T05:00:00", "2026-11-02"),
    ],
)
def test_local_days_follow_the_clinics_daylight_saving_changes(utc, local):
    seconds = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC).timestamp()

    days = local_days(np.array([seconds]), "America/New_York")

    assert to_date(days[0]) == dt.date.fromisoformat(local)
    assert to_day(dt.date.fromisoformat(local)) == days[0]
