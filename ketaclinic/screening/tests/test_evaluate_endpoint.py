"""POST /api/v1/screening/evaluate answers exactly as specified, names the field at fault,
needs a staff user, and is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.audit.models import Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.plans.tests.helpers import fields_of, last_event, post_json
from ketaclinic.screening import rules

URL = "/api/v1/screening/evaluate"
EXAMPLE = {
    "route": "iv",
    "indication": "trd",
    "age_years": 44,
    "antidepressant_trials": 3,
    "findings": ["bipolar_disorder"],
    "systolic_mmhg": 132,
    "diastolic_mmhg": 84,
    "oral_antidepressant": True,
}


def test_the_example_needs_review_for_bipolar_disorder_with_its_source(nurse):
    response = post_json(signed_in(nurse), URL, EXAMPLE)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "decision": "needs_review",
        "findings": [
            {
                "code": "bipolar_disorder",
                "severity": "caution",
                "message": rules.vocabulary().by_code["bipolar_disorder"].message,
                "sources": [
                    "'The Transformative Power of Ketamine Therapy'; "
                    "'Benefits of Ketamine Therapy' (patient guides)"
                ],
            }
        ],
    }
    event = last_event("screening.evaluate")
    assert event.actor == nurse
    assert event.patient_id is None
    assert event.detail == {"route": "iv", "indication": "trd", "decision": "needs_review"}


def test_bp_and_oral_antidepressant_are_optional(front_desk):
    optional = {"systolic_mmhg", "diastolic_mmhg", "oral_antidepressant"}
    body = {key: value for key, value in EXAMPLE.items() if key not in optional}
    body["findings"] = []

    response = post_json(signed_in(front_desk), URL, body)

    assert response.status_code == 200
    assert response.json() == {"decision": "eligible", "findings": []}


def test_an_exclusion_makes_it_ineligible_and_is_listed_first(prescriber):
    response = post_json(
        signed_in(prescriber),
        URL,
        EXAMPLE | {"findings": ["bipolar_disorder", "pregnant"], "systolic_mmhg": 182},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "ineligible"
    assert [(f["code"], f["severity"]) for f in body["findings"]] == [
        ("pregnant", "exclude"),
        ("bp_too_high_today", "exclude"),
        ("bipolar_disorder", "caution"),
    ]
    assert all(f["sources"] for f in body["findings"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"findings": ["unicorn_allergy"]}, "findings"),
        ({"findings": ["minor"]}, "findings"),
        ({"route": "rectal"}, "route"),
        ({"indication": "insomnia"}, "indication"),
        ({"age_years": None}, "age_years"),
        ({"antidepressant_trials": -1}, "antidepressant_trials"),
        ({"systolic_mmhg": 400}, "systolic_mmhg"),
        ({"diastolic_mmhg": None}, "diastolic_mmhg"),
        ({"age_years": "forty"}, "age_years"),
    ],
)
def test_bad_input_answers_422_naming_the_field(nurse, change, field):
    body = EXAMPLE | change

    response = post_json(signed_in(nurse), URL, body)

    assert response.status_code == 422
    assert fields_of(response) == {field}
    assert set(response.json()) == {"message", "errors"}


def test_a_misspelt_field_is_refused_not_ignored(nurse):
    body = {key: value for key, value in EXAMPLE.items() if key != "findings"}
    body["finding"] = ["pregnant"]

    response = post_json(signed_in(nurse), URL, body)

    assert response.status_code == 422
    assert fields_of(response) == {"finding"}


def test_a_missing_age_is_named(nurse):
    body = {key: value for key, value in EXAMPLE.items() if key != "age_years"}

    response = post_json(signed_in(nurse), URL, body)

    assert response.status_code == 422
    assert fields_of(response) == {"age_years"}
    assert last_event("screening.evaluate").outcome == Outcome.INVALID


def test_patients_and_clinic_admins_may_not_use_it(patient_a, clinic_admin):
    assert post_json(signed_in(patient_a.user), URL, EXAMPLE).status_code == 403
    assert post_json(signed_in(clinic_admin), URL, EXAMPLE).status_code == 403


def test_anonymous_callers_get_401(db):
    assert post_json(Client(), URL, EXAMPLE).status_code == 401
