"""POST /api/v1/plans/schedule-preview proposes dates exactly as specified, ignoring inputs
the pattern does not use."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.conftest import signed_in
from ketaclinic.plans.tests.helpers import fields_of, last_event, post_json

URL = "/api/v1/plans/schedule-preview"
EXAMPLE = {
    "protocol": "iv_induction",
    "start_date": "2026-12-07",
    "working_weekdays": [0, 1, 2, 3, 4],
    "interval_weeks": 4,
    "count": 3,
    "horizon_weeks": 16,
}


def test_the_example_proposes_six_induction_infusions_ignoring_unused_inputs(front_desk):
    response = post_json(signed_in(front_desk), URL, EXAMPLE)

    assert response.status_code == 200
    assert response.json() == {
        "sessions": [
            {"number": 1, "date": "2026-12-07", "phase": "induction"},
            {"number": 2, "date": "2026-12-09", "phase": "induction"},
            {"number": 3, "date": "2026-12-11", "phase": "induction"},
            {"number": 4, "date": "2026-12-14", "phase": "induction"},
            {"number": 5, "date": "2026-12-16", "phase": "induction"},
            {"number": 6, "date": "2026-12-18", "phase": "induction"},
        ]
    }
    event = last_event("plans.schedule_preview")
    assert event.actor == front_desk
    assert event.detail == {"protocol": "iv_induction", "sessions": 6}


def test_maintenance_uses_interval_and_count(nurse):
    response = post_json(signed_in(nurse), URL, EXAMPLE | {"protocol": "iv_maintenance"})

    assert response.status_code == 200
    assert response.json()["sessions"] == [
        {"number": 1, "date": "2026-12-07", "phase": "maintenance"},
        {"number": 2, "date": "2027-01-04", "phase": "maintenance"},
        {"number": 3, "date": "2027-02-01", "phase": "maintenance"},
    ]


def test_esketamine_trd_runs_to_the_horizon_with_its_phases(nurse):
    response = post_json(signed_in(nurse), URL, EXAMPLE | {"protocol": "esketamine_trd"})

    assert response.status_code == 200
    phases = [s["phase"] for s in response.json()["sessions"]]
    assert phases.count("induction") == 8
    assert phases.count("optimization") == 4
    assert phases.count("maintenance") == 4  # weeks 9, 11, 13, 15 of 16


def test_esketamine_mdsi_is_twice_weekly_for_four_weeks(nurse):
    response = post_json(signed_in(nurse), URL, EXAMPLE | {"protocol": "esketamine_mdsi"})

    assert response.status_code == 200
    assert len(response.json()["sessions"]) == 8


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"protocol": "iv_weekly"}, "protocol"),
        ({"working_weekdays": [0, 2]}, "working_weekdays"),
        ({"working_weekdays": [0, 2, 9]}, "working_weekdays"),
        ({"start_date": "next monday"}, "start_date"),
        ({"protocol": "iv_maintenance", "interval_weeks": 12}, "interval_weeks"),
        ({"protocol": "iv_maintenance", "count": None}, "count"),
        ({"protocol": "esketamine_trd", "horizon_weeks": 60}, "horizon_weeks"),
    ],
)
def test_bad_requests_answer_422_naming_the_field(nurse, change, field):
    response = post_json(signed_in(nurse), URL, EXAMPLE | change)

    assert response.status_code == 422
    assert fields_of(response) == {field}


def test_patients_may_not_call_it(patient_a):
    assert post_json(signed_in(patient_a.user), URL, EXAMPLE).status_code == 403
    assert post_json(Client(), URL, EXAMPLE).status_code == 401
