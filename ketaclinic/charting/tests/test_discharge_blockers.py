"""Discharge lists what is unmet; a clinician signs.

Criteria: RCEM and the esketamine label; minimum observation: esketamine >= 2 h from the
first device [label], IV 1 h after the infusion [NIMH trial] (REFERENCE.md section 3).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.charting.safety import DEFAULT_DISCHARGE, Alert, discharge_blockers

ALL_CONFIRMED = {criterion.code: True for criterion in DEFAULT_DISCHARGE.criteria}


def codes(assessment):
    return [blocker.code for blocker in assessment.blockers]


@pytest.mark.parametrize(
    ("now", "blocked"),
    [(129, True), (130, False), (131, False)],
    ids=["119 min after the first device", "120 min", "121 min"],
)
def test_esketamine_is_blocked_until_2_hours_after_the_first_device(now, blocked):
    assessment = discharge_blockers(
        "esketamine", checklist=ALL_CONFIRMED, now_minute=now, dose_start_minute=10
    )

    assert assessment.can_discharge is not blocked
    assert assessment.observation_met is not blocked
    assert assessment.earliest_discharge_minute == 130


def test_the_observation_blocker_says_how_long_is_left():
    assessment = discharge_blockers(
        "esketamine", checklist=ALL_CONFIRMED, now_minute=105, dose_start_minute=10
    )

    (blocker,) = assessment.blockers
    assert blocker.code == "minimum_observation"
    assert blocker.message == (
        "Observation of 120 min from the first device: 95 min so far, 25 min to go"
    )
    assert "label" in blocker.source


def test_iv_observation_counts_from_the_end_of_the_infusion():
    def can_go(now):
        return discharge_blockers(
            "iv", checklist=ALL_CONFIRMED, now_minute=now, dose_start_minute=0, dose_end_minute=32
        ).can_discharge

    assert (can_go(91), can_go(92)) == (False, True)


def test_iv_is_blocked_while_the_infusion_runs():
    assessment = discharge_blockers(
        "iv", checklist=ALL_CONFIRMED, now_minute=200, dose_start_minute=0
    )

    assert codes(assessment) == ["minimum_observation"]
    assert assessment.earliest_discharge_minute is None


def test_unconfirmed_criteria_are_listed_in_checklist_order():
    checklist = ALL_CONFIRMED | {"alert_and_oriented": False}
    del checklist["responsible_adult_present"]

    assessment = discharge_blockers(
        "iv", checklist=checklist, now_minute=200, dose_start_minute=0, dose_end_minute=40
    )

    assert codes(assessment) == ["alert_and_oriented", "responsible_adult_present"]


def test_clinical_stability_is_asked_for_esketamine_only():
    without = {k: v for k, v in ALL_CONFIRMED.items() if k != "clinically_stable"}

    iv = discharge_blockers(
        "iv", checklist=without, now_minute=200, dose_start_minute=0, dose_end_minute=40
    )
    nasal = discharge_blockers("esketamine", checklist=without, now_minute=200, dose_start_minute=0)

    assert (codes(iv), codes(nasal)) == ([], ["clinically_stable"])


def test_a_critical_alert_blocks_discharge_and_a_warning_does_not():
    def alert(code, level):
        return Alert(code, level, "act", "basis", Decimal(150), "204/90 mmHg", label="High")

    assessment = discharge_blockers(
        "iv",
        checklist=ALL_CONFIRMED,
        now_minute=200,
        dose_start_minute=0,
        dose_end_minute=40,
        alerts=[alert("bp_critical", "critical"), alert("tachycardia", "warning")],
    )

    (blocker,) = assessment.blockers
    assert (blocker.code, blocker.message) == (
        "critical_alert",
        "Critical alert in force: High: 204/90 mmHg",
    )


def test_a_route_without_a_minimum_in_the_reference_leaves_it_to_the_clinician():
    assessment = discharge_blockers(
        "im", checklist=ALL_CONFIRMED, now_minute=5, dose_start_minute=0
    )

    assert assessment.can_discharge
    assert assessment.observation_met is None


def test_driving_advice_follows_the_route():
    def advice(route):
        return DEFAULT_DISCHARGE.driving_advice_for(route).text

    assert advice("esketamine") == "No driving until the next day, after a restful sleep."
    assert advice("iv") == "No driving for the rest of the day."
