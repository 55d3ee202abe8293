"""Properties that hold for every possible set of answers to every shipped instrument."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.outcomes.definitions import Instrument, get_instrument, shipped_instruments
from ketaclinic.outcomes.scoring import Incomplete, change, score

CODES = sorted(shipped_instruments())
BANDED = [code for code in CODES if get_instrument(code).bands]


def answers(instrument: Instrument) -> st.SearchStrategy[list[int]]:
    return st.tuples(*(st.sampled_from(sorted(item.values)) for item in instrument.items)).map(list)


@pytest.mark.parametrize("code", CODES)
@given(data=st.data())
def test_totals_always_lie_within_the_instrument_range(code, data):
    instrument = get_instrument(code)
    result = score(instrument, data.draw(answers(instrument)))
    assert instrument.total_min <= result.total <= instrument.total_max


@pytest.mark.parametrize("code", BANDED)
def test_every_possible_total_has_exactly_one_band(code):
    instrument = get_instrument(code)
    for total in range(instrument.total_min, instrument.total_max + 1):
        assert sum(band.contains(total) for band in instrument.bands) == 1


@pytest.mark.parametrize("code", BANDED)
@given(data=st.data())
def test_every_scored_questionnaire_gets_a_band(code, data):
    instrument = get_instrument(code)
    result = score(instrument, data.draw(answers(instrument)))
    assert result.band == instrument.band_for(result.total).code


@given(data=st.data())
def test_the_qids_total_never_exceeds_the_raw_sum(data):
    instrument = get_instrument("qids_sr16")
    values = data.draw(answers(instrument))
    result = score(instrument, values)
    assert result.total <= sum(values)
    assert result.total == sum(result.subscores.values())


@given(data=st.data())
def test_pcl5_clusters_add_up_to_the_total(data):
    instrument = get_instrument("pcl5")
    result = score(instrument, data.draw(answers(instrument)))
    assert sum(result.subscores.values()) == result.total


@pytest.mark.parametrize("code", CODES)
@given(data=st.data())
def test_blanking_any_answer_makes_the_result_incomplete(code, data):
    instrument = get_instrument(code)
    values: list[int | None] = list(data.draw(answers(instrument)))
    blank = data.draw(st.integers(0, len(values) - 1))
    values[blank] = None
    result = score(instrument, values)
    assert isinstance(result, Incomplete)
    assert blank + 1 in result.missing_items


@pytest.mark.parametrize("code", ["phq9", "gad7", "qids_sr16", "madrs"])
@given(data=st.data())
def test_a_percent_response_matches_a_fall_of_at_least_half(code, data):
    instrument = get_instrument(code)
    baseline = data.draw(st.integers(1, instrument.total_max))
    current = data.draw(st.integers(0, instrument.total_max))
    result = change(instrument, baseline, current)
    assert result.response is (current * 2 <= baseline)
    assert result.change_pct == pytest.approx(
        (current - baseline) / baseline * 100, abs=0.05 + 1e-9
    )
