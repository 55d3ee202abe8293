"""Side effects recorded in a session come from the reference vocabulary (seeds 000/002/004)."""

from __future__ import annotations

import pytest

from ketaclinic.charting.safety import SIDE_EFFECTS, PolicyError


def codes(category):
    return [effect.code for effect in SIDE_EFFECTS.in_category(category)]


def test_the_common_side_effects_are_those_of_the_reference():
    assert codes("common") == [
        "dissociation",
        "raised_blood_pressure",
        "raised_heart_rate",
        "nausea",
        "dizziness",
        "blurred_or_double_vision",
        "vertigo",
        "drowsiness",
        "headache",
        "altered_taste",
        "confusion",
        "hallucinations_psychosis",
    ]


def test_the_rare_side_effects_are_those_of_the_reference():
    assert codes("rare") == [
        "mania",
        "poor_coordination",
        "restlessness",
        "panic_attack",
        "thoughts_of_self_harm",
        "out_of_body_experience",
    ]


def test_every_side_effect_names_the_seeds_that_list_it():
    for effect in SIDE_EFFECTS.effects:
        assert effect.sources, effect.code
        assert all(source.startswith("seed 00") for source in effect.sources), effect.code


def test_severity_is_mild_moderate_or_severe():
    assert SIDE_EFFECTS.severities == ("mild", "moderate", "severe")


def test_a_recorded_side_effect_is_checked_against_the_vocabulary():
    assert SIDE_EFFECTS.check("nausea", "moderate").label == "Nausea"

    with pytest.raises(PolicyError, match="not a side effect"):
        SIDE_EFFECTS.check("sneezing", "mild")
    with pytest.raises(PolicyError, match="severity"):
        SIDE_EFFECTS.check("nausea", "extreme")
