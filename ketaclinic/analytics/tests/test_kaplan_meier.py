"""Kaplan–Meier estimator against hand-computed values and a textbook example."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import CensoredData, ecdf

from ketaclinic.analytics.statistics import kaplan_meier
from ketaclinic.outcomes.scoring import Durability


def test_a_small_case_matches_the_hand_computation():
    #  t  at risk  events  censored  S(t)
    #  1     6        1        0      5/6
    #  2     5        0        1      5/6
    #  3     4        2        0      5/6 × 2/4 = 5/12
    #  4     2        0        1      5/12
    #  5     1        1        0      0
    curve = kaplan_meier([(1, True), (2, False), (3, True), (3, True), (4, False), (5, True)])
    np.testing.assert_array_equal(curve.times, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(curve.at_risk, [6, 5, 4, 2, 1])
    np.testing.assert_array_equal(curve.events, [1, 0, 2, 0, 1])
    np.testing.assert_array_equal(curve.censored, [0, 1, 0, 1, 0])
    np.testing.assert_allclose(curve.survival, [5 / 6, 5 / 6, 5 / 12, 5 / 12, 0.0])


# Freireich et al. 1963, 6-mercaptopurine arm: weeks in remission, False = censored.
# Kaplan–Meier table from Kleinbaum & Klein, Survival Analysis, chapter 2.
SIX_MP = [
    (6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True),
    (10, False), (11, False), (13, True), (16, True), (17, False), (19, False), (20, False),
    (22, True), (23, True), (25, False), (32, False), (32, False), (34, False), (35, False),
]  # fmt: skip
SIX_MP_TABLE = [
    # week, at risk, events, S(t)
    (6, 21, 3, 0.8571),
    (7, 17, 1, 0.8067),
    (10, 15, 1, 0.7529),
    (13, 12, 1, 0.6902),
    (16, 11, 1, 0.6275),
    (22, 7, 1, 0.5378),
    (23, 6, 1, 0.4482),
]


@pytest.mark.parametrize(("week", "at_risk", "events", "survival"), SIX_MP_TABLE)
def test_it_reproduces_the_textbook_leukaemia_remission_table(week, at_risk, events, survival):
    curve = kaplan_meier(SIX_MP)
    row = int(np.flatnonzero(curve.times == week)[0])
    assert (curve.at_risk[row], curve.events[row]) == (at_risk, events)
    np.testing.assert_allclose(curve.survival[row], survival, atol=5e-5)


def test_survival_is_a_right_continuous_step_function():
    curve = kaplan_meier(SIX_MP)
    assert curve.survival_at(0) == 1.0
    assert curve.survival_at(5.99) == 1.0
    np.testing.assert_allclose(curve.survival_at(6), 18 / 21)
    np.testing.assert_allclose(curve.survival_at(21.9), curve.survival_at(16))
    np.testing.assert_allclose(curve.survival_at(100), 0.4482, atol=5e-5)


def test_durabilities_from_course_outcomes_feed_the_estimator():
    curve = kaplan_meier([Durability(28, True), Durability(14, False), Durability(56, True)])
    np.testing.assert_array_equal(curve.times, [14, 28, 56])
    np.testing.assert_allclose(curve.survival, [1.0, 0.5, 0.0])


def test_no_observations_give_an_empty_curve():
    curve = kaplan_meier([])
    assert curve.times.size == curve.survival.size == curve.at_risk.size == 0
    assert curve.survival_at(10) == 1.0


def test_the_curve_cannot_be_changed_after_the_fact():
    curve = kaplan_meier([(1, True)])
    with pytest.raises(ValueError, match="read-only"):
        curve.survival[0] = 1.0


@pytest.mark.parametrize(
    ("observations", "message"),
    [
        ([(-1, True)], "non-negative"),
        ([(float("nan"), True)], "finite"),
        ([(float("inf"), False)], "finite"),
        ([(1, "yes")], "event_observed"),
        ([(1, 2)], "event_observed"),
    ],
)
def test_impossible_observations_are_refused(observations, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(observations)


# No deadline: the first call pays for scipy's lazy set-up, not our code.
@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=60))
def test_it_agrees_with_scipys_censored_ecdf(observations):
    curve = kaplan_meier(observations)
    sample = CensoredData(
        uncensored=[d for d, e in observations if e], right=[d for d, e in observations if not e]
    )
    reference = ecdf(sample).sf
    np.testing.assert_allclose(curve.times, reference.quantiles)
    np.testing.assert_allclose(curve.survival, reference.probabilities, atol=1e-12)


@given(st.lists(st.tuples(st.floats(0, 1e6), st.booleans()), max_size=80))
def test_survival_never_rises_and_everyone_is_accounted_for(observations):
    curve = kaplan_meier(observations)
    assert np.all((curve.survival >= 0) & (curve.survival <= 1))
    assert np.all(np.diff(curve.survival) <= 0)
    assert curve.events.sum() + curve.censored.sum() == len(observations)
    if observations:
        assert curve.at_risk[0] == len(observations)
