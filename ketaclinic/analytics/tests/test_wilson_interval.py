"""Wilson score interval against published values and scipy's implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from ketaclinic.analytics.statistics import Interval, wilson_interval

# Newcombe RG, Stat Med 1998;17:857, Table I, method 3 (score interval without continuity
# correction), 95%.
NEWCOMBE_1998 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), NEWCOMBE_1998)
def test_it_reproduces_newcombes_published_intervals(successes, n, low, high):
    np.testing.assert_allclose(wilson_interval(successes, n), (low, high), atol=5e-5)


# No deadline: the first call pays for scipy's lazy set-up, not our code.
@settings(deadline=None)
@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_it_matches_scipys_wilson_interval(counts):
    successes, n = counts
    reference = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    np.testing.assert_allclose(
        wilson_interval(successes, n), (reference.low, reference.high), atol=1e-12
    )


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_holds_the_observed_proportion_inside_zero_to_one(counts):
    successes, n = counts
    low, high = wilson_interval(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_no_successes_gives_a_lower_limit_of_exactly_zero():
    assert wilson_interval(0, 12).low == 0.0


def test_all_successes_gives_an_upper_limit_of_exactly_one():
    interval = wilson_interval(12, 12)
    assert interval.high == 1.0
    np.testing.assert_allclose(interval.low, 1 - wilson_interval(0, 12).high)


def test_no_patients_gives_no_interval():
    assert wilson_interval(0, 0) is None


def test_a_higher_confidence_gives_a_wider_interval():
    narrow = wilson_interval(30, 60, confidence=0.90)
    wide = wilson_interval(30, 60, confidence=0.99)
    assert wide.low < narrow.low < 0.5 < narrow.high < wide.high


def test_the_result_is_a_named_pair():
    interval = wilson_interval(81, 263)
    assert isinstance(interval, Interval)
    low, high = interval
    assert (low, high) == (interval.low, interval.high)


@pytest.mark.parametrize(
    ("successes", "n", "confidence", "message"),
    [
        (5, 4, 0.95, "successes <= n"),
        (-1, 4, 0.95, "successes <= n"),
        (1, -1, 0.95, "successes <= n"),
        (1, 4, 1.0, "confidence"),
        (1, 4, 0.0, "confidence"),
        (1.0, 4, 0.95, "whole number"),
        (True, 4, 0.95, "whole number"),
    ],
)
def test_impossible_counts_and_levels_are_refused(successes, n, confidence, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n, confidence)
