"""A licensed clinic can load its own C-SSRS screener; risk comes from the highest Yes.

The C-SSRS is not shipped (REFERENCE.md §5: electronic use needs a licence). The
definition below is a test fixture written here, with placeholder wording, to show that the
loader and the ``max_item_risk`` rule carry a screener of that shape.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.outcomes.definitions import parse_instrument
from ketaclinic.outcomes.scoring import AnswerError, Incomplete, score


def yes_no(risk_if_yes: int) -> list[dict]:
    return [
        {"value": 0, "text": "No", "risk": 0},
        {"value": 1, "text": "Yes", "risk": risk_if_yes},
    ]


# Risk ranks: 0 none, 1 low, 2 moderate, 3 high.
# REFERENCE.md §5: Q1–2 low, Q3 or old behaviour moderate, Q4/Q5/behaviour in 3 months high.
SCREENER = {
    "code": "cssrs_screener",
    "name": "C-SSRS screener (clinic-supplied; test fixture)",
    "version": 1,
    "status": "active",
    "rater": "clinician",
    "licence": "licensed to the clinic (fixture)",
    "source": "REFERENCE.md §5, C-SSRS row",
    "item_text_verified": False,
    "items": [
        {"number": 1, "text": "Question 1 (placeholder wording)", "options": yes_no(1)},
        {"number": 2, "text": "Question 2 (placeholder wording)", "options": yes_no(1)},
        {"number": 3, "text": "Question 3 (placeholder wording)", "options": yes_no(2)},
        {"number": 4, "text": "Question 4 (placeholder wording)", "options": yes_no(3)},
        {"number": 5, "text": "Question 5 (placeholder wording)", "options": yes_no(3)},
        {
            "number": 6,
            "text": "Question 6, behaviour (placeholder wording)",
            "options": [
                {"value": 0, "text": "No", "risk": 0},
                {"value": 1, "text": "Yes, more than 3 months ago", "risk": 2},
                {"value": 2, "text": "Yes, within the past 3 months", "risk": 3},
            ],
        },
    ],
    "scoring": {"type": "max_item_risk", "source": "REFERENCE.md §5: risk from the highest Yes"},
    "total": {"min": 0, "max": 3},
    "bands": [
        {"code": "none", "min": 0, "max": 0},
        {"code": "low", "min": 1, "max": 1},
        {"code": "moderate", "min": 2, "max": 2},
        {"code": "high", "min": 3, "max": 3},
    ],
    "flags": [{"code": "suicidal_behaviour", "item": 6, "above": 0, "source": "fixture"}],
}


def screener():
    return parse_instrument(SCREENER, origin="clinic:cssrs_screener")


def test_the_clinic_definition_loads():
    instrument = screener()
    assert len(instrument.items) == 6
    assert (instrument.total_min, instrument.total_max) == (0, 3)


def test_all_no_is_no_risk():
    result = score(screener(), [0, 0, 0, 0, 0, 0])
    assert (result.total, result.band, result.flags) == (0, "none", ())


def test_yes_to_questions_1_and_2_only_is_low_risk():
    assert score(screener(), [1, 1, 0, 0, 0, 0]).band == "low"


def test_yes_to_question_3_is_moderate_risk():
    assert score(screener(), [1, 1, 1, 0, 0, 0]).band == "moderate"


def test_old_behaviour_alone_is_moderate_risk():
    result = score(screener(), [0, 0, 0, 0, 0, 1])
    assert (result.band, result.flags) == ("moderate", ("suicidal_behaviour",))


def test_yes_to_question_4_or_5_is_high_risk():
    assert score(screener(), [1, 1, 1, 1, 0, 0]).band == "high"
    assert score(screener(), [0, 0, 0, 0, 1, 0]).band == "high"


def test_behaviour_in_the_past_3_months_is_high_risk():
    assert score(screener(), [0, 0, 0, 0, 0, 2]).band == "high"


def test_many_low_answers_never_add_up_to_a_higher_risk():
    # Risk is the highest Yes, not the count of Yes answers.
    assert score(screener(), [1, 1, 0, 0, 0, 0]).total == 1


def test_a_screener_answer_outside_yes_no_names_the_item():
    with pytest.raises(AnswerError) as raised:
        score(screener(), [0, 0, 2, 0, 0, 0])
    assert raised.value.item == 3


def test_an_unanswered_screener_question_is_incomplete():
    assert isinstance(score(screener(), [1, 0, None, 0, 0, 0]), Incomplete)


@given(
    st.lists(st.integers(0, 1), min_size=5, max_size=5),
    st.integers(0, 2),
)
def test_the_risk_is_always_the_highest_rank_answered(first_five, behaviour):
    instrument = screener()
    answers = [*first_five, behaviour]
    ranks = [instrument.item(n + 1).option(v).risk for n, v in enumerate(answers)]
    result = score(instrument, answers)
    assert result.total == max(ranks)
    assert result.band == ["none", "low", "moderate", "high"][max(ranks)]
