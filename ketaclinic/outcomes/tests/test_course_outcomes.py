"""Course outcomes over hand-built courses: baseline, current, time to response, durability.

Course A (PHQ-9) — six induction infusions, first on Monday 3 March 2025 (day 0):

    sessions  day 0 (3 Mar), 2, 4, 7, 9, 11 (14 Mar, last induction session)
    scores    day -3: 18, day 0: 20 (baseline), day 4: 14, day 7: 10 (first response),
              day 11: 6 (responding at the end of induction), then follow-up.

The response line is 10 (a 50% fall from 20); relapse is any later score above it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ketaclinic.outcomes.scoring import (
    DatedScore,
    Durability,
    ScoringError,
    TimeToResponse,
    course_baseline,
    course_current,
    course_outcome,
    durability,
    time_to_response,
)

DAY_0 = date(2025, 3, 3)


def day(n: int) -> date:
    return DAY_0 + timedelta(days=n)


SESSIONS = [day(n) for n in (0, 2, 4, 7, 9, 11)]
LAST_INDUCTION = day(11)
INDUCTION_SCORES = [
    DatedScore(day(-3), 18),
    DatedScore(day(0), 20),
    DatedScore(day(4), 14),
    DatedScore(day(7), 10),
    DatedScore(day(11), 6),
]


def course(*follow_up: tuple[int, int]) -> list[DatedScore]:
    return INDUCTION_SCORES + [DatedScore(day(n), total) for n, total in follow_up]


def test_the_baseline_is_the_last_score_on_or_before_the_first_session():
    assert course_baseline(INDUCTION_SCORES, SESSIONS) == DatedScore(day(0), 20)


def test_a_score_the_day_before_the_first_session_is_the_baseline_when_none_is_later():
    scores = [DatedScore(day(-3), 18), DatedScore(day(4), 14)]
    assert course_baseline(scores, SESSIONS) == DatedScore(day(-3), 18)


def test_there_is_no_baseline_without_a_score_before_treatment_or_without_sessions():
    assert course_baseline([DatedScore(day(4), 14)], SESSIONS) is None
    assert course_baseline(INDUCTION_SCORES, []) is None


def test_the_order_scores_and_sessions_arrive_in_does_not_matter():
    scores = course((25, 9), (39, 12))
    sessions = list(SESSIONS)
    random.Random(6).shuffle(scores)
    random.Random(6).shuffle(sessions)
    assert course_baseline(scores, sessions) == DatedScore(day(0), 20)
    assert course_current(scores) == DatedScore(day(39), 12)


def test_current_is_the_latest_score():
    assert course_current(INDUCTION_SCORES) == DatedScore(day(11), 6)
    assert course_current([]) is None


def test_time_to_response_counts_days_from_the_first_session_and_sessions_given_before():
    # Day 7 is itself a session day; its score is taken before that day's infusion,
    # so three sessions (days 0, 2, 4) had been given.
    assert time_to_response("phq9", INDUCTION_SCORES, SESSIONS) == TimeToResponse(
        days=7, sessions=3, score=DatedScore(day(7), 10)
    )


def test_no_response_means_no_time_to_response():
    scores = [DatedScore(day(0), 20), DatedScore(day(7), 11), DatedScore(day(11), 12)]
    assert time_to_response("phq9", scores, SESSIONS) is None


def test_a_baseline_below_the_line_is_never_a_response():
    scores = [DatedScore(day(0), 0), DatedScore(day(7), 0)]
    assert time_to_response("phq9", scores, SESSIONS) is None


def test_durability_ends_at_the_first_score_back_above_the_response_line():
    # Day 25 (14 days after induction): 9, still responding. Day 39 (28 days after): 12.
    result = durability(
        "phq9", course((25, 9), (39, 12)), SESSIONS, last_induction_session=LAST_INDUCTION
    )
    assert result == Durability(days=28, event_observed=True)


def test_a_score_exactly_on_the_response_line_is_still_a_response():
    result = durability(
        "phq9", course((25, 10), (39, 11)), SESSIONS, last_induction_session=LAST_INDUCTION
    )
    assert result == Durability(28, True)


def test_durability_is_censored_at_the_last_score_when_response_holds():
    result = durability(
        "phq9", course((25, 9), (39, 8)), SESSIONS, last_induction_session=LAST_INDUCTION
    )
    assert result == Durability(days=28, event_observed=False)
    days, event_observed = result  # a plain pair for the Kaplan–Meier estimator
    assert (days, event_observed) == (28, False)


def test_durability_without_follow_up_is_censored_at_zero_days():
    result = durability("phq9", course(), SESSIONS, last_induction_session=LAST_INDUCTION)
    assert result == Durability(0, False)


def test_there_is_no_durability_for_a_patient_not_responding_at_the_end_of_induction():
    scores = [DatedScore(day(0), 20), DatedScore(day(7), 10), DatedScore(day(11), 12)]
    assert durability("phq9", scores, SESSIONS, last_induction_session=LAST_INDUCTION) is None


def test_pcl5_durability_uses_the_10_point_line():
    scores = [
        DatedScore(day(0), 50),
        DatedScore(day(11), 40),  # a 10-point fall: responding
        DatedScore(day(20), 40),
        DatedScore(day(30), 41),  # back above the line
    ]
    assert durability("pcl5", scores, SESSIONS, last_induction_session=LAST_INDUCTION) == (19, True)


def test_instruments_without_a_response_rule_have_no_course_response():
    scores = [DatedScore(day(0), 8), DatedScore(day(7), 1)]
    assert time_to_response("pain_nrs", scores, SESSIONS) is None
    assert durability("pain_nrs", scores, SESSIONS, last_induction_session=day(7)) is None


def test_the_course_outcome_gathers_everything():
    outcome = course_outcome(
        "phq9", course((25, 9), (39, 12)), SESSIONS, last_induction_session=LAST_INDUCTION
    )
    assert outcome.baseline == DatedScore(day(0), 20)
    assert outcome.current == DatedScore(day(39), 12)
    assert (outcome.change.change_pct, outcome.change.response) == (-40.0, False)
    assert outcome.time_to_response.days == 7
    assert outcome.durability == Durability(28, True)


def test_the_course_outcome_leaves_durability_out_until_induction_has_ended():
    outcome = course_outcome("phq9", INDUCTION_SCORES, SESSIONS)
    assert outcome.durability is None
    assert outcome.change.response is True


def test_an_empty_course_has_no_outcomes():
    outcome = course_outcome("phq9", [], [])
    assert outcome == type(outcome)(None, None, None, None, None)


def test_a_total_outside_the_instrument_range_is_refused_and_dated():
    with pytest.raises(ScoringError, match="2025-03-10"):
        course_outcome("phq9", [DatedScore(day(0), 20), DatedScore(day(7), 30)], SESSIONS)
