"""Totals land in the band REFERENCE.md §5 gives, on both sides of every boundary."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.definitions import Instrument, get_instrument
from ketaclinic.outcomes.scoring import score


def answers_for_total(instrument: Instrument, total: int) -> list[int]:
    """Answers reaching ``total``, filling items in order (one item per QIDS domain)."""
    if instrument.scoring.type == "qids_domains":
        counted = [domain.items[0] for domain in instrument.scoring.domains]
    else:
        counted = [item.number for item in instrument.items]
    answers = [item.min_value for item in instrument.items]
    remaining = total
    for number in counted:
        item = instrument.item(number)
        answers[number - 1] = min(item.max_value, remaining)
        remaining -= answers[number - 1]
    assert remaining == 0, f"cannot reach {total}"
    return answers


BOUNDARIES = [
    # PHQ-9: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe
    ("phq9", 0, "minimal"),
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately_severe"),
    ("phq9", 19, "moderately_severe"),
    ("phq9", 20, "severe"),
    ("phq9", 27, "severe"),
    # GAD-7: 0–4, 5–9, 10–14, 15–21
    ("gad7", 0, "minimal"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    # QIDS-SR16: 0–5 none, 6–10 mild, 11–15 moderate, 16–20 severe, 21–27 very severe
    ("qids_sr16", 0, "none"),
    ("qids_sr16", 5, "none"),
    ("qids_sr16", 6, "mild"),
    ("qids_sr16", 10, "mild"),
    ("qids_sr16", 11, "moderate"),
    ("qids_sr16", 15, "moderate"),
    ("qids_sr16", 16, "severe"),
    ("qids_sr16", 20, "severe"),
    ("qids_sr16", 21, "very_severe"),
    ("qids_sr16", 27, "very_severe"),
    # MADRS: 0–6, 7–19, 20–34, 35–60
    ("madrs", 0, "normal"),
    ("madrs", 6, "normal"),
    ("madrs", 7, "mild"),
    ("madrs", 19, "mild"),
    ("madrs", 20, "moderate"),
    ("madrs", 34, "moderate"),
    ("madrs", 35, "severe"),
    ("madrs", 60, "severe"),
    # PCL-5: probable PTSD at ≥33 (default of the 31–33 range)
    ("pcl5", 0, "below_threshold"),
    ("pcl5", 32, "below_threshold"),
    ("pcl5", 33, "probable_ptsd"),
    ("pcl5", 80, "probable_ptsd"),
]


@pytest.mark.parametrize(("code", "total", "band"), BOUNDARIES)
def test_each_total_falls_in_the_published_band(code, total, band):
    instrument = get_instrument(code)
    result = score(instrument, answers_for_total(instrument, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("code", ["pain_nrs", "dissociation_nrs"])
@pytest.mark.parametrize("rating", [0, 3, 10])
def test_single_ratings_score_as_given_with_no_band(code, rating):
    result = score(code, [rating])
    assert (result.total, result.band, result.flags, result.subscores) == (rating, None, (), {})


def test_sum_instruments_add_every_item():
    assert score("gad7", [0, 1, 2, 3, 0, 1, 2]).total == 9
    assert score("madrs", [6, 5, 4, 3, 2, 1, 0, 6, 5, 4]).total == 36


def test_the_score_result_has_the_api_shape():
    body = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0]).as_dict()
    assert body == {
        "instrument": "phq9",
        "total": 8,
        "band": "mild",
        "flags": [],
        "subscores": {},
    }


def test_the_instrument_code_is_accepted_in_place_of_the_definition():
    answers = [2] * 9
    assert score("phq9", answers) == score(get_instrument("phq9"), answers)
