"""POST /api/v1/dosing/calculate answers exactly as specified, on the clinic's protocols."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.conftest import signed_in
from ketaclinic.plans.tests.helpers import fields_of, last_event, post_json
from ketaclinic.protocols.models import Protocol

URL = "/api/v1/dosing/calculate"
IV = {"route": "iv", "weight_kg": 73.4, "dose_mg_per_kg": 0.5, "duration_min": 40}
ESKETAMINE = {"route": "esketamine", "dose_mg": 84, "age_years": 50}


def test_the_iv_example_gives_numbers_as_json_numbers(nurse):
    response = post_json(signed_in(nurse), URL, IV)

    assert response.status_code == 200
    assert response.json() == {"dose_mg": 36.7, "rate_mg_per_min": 0.92, "warnings": []}
    assert b'"dose_mg": 36.7' in response.content or b'"dose_mg":36.7' in response.content
    event = last_event("dosing.calculate")
    assert event.actor == nurse
    assert event.detail["protocol"] == "iv_racemic"


def test_the_esketamine_example_counts_three_devices(prescriber):
    response = post_json(signed_in(prescriber), URL, ESKETAMINE)

    assert response.status_code == 200
    assert response.json() == {"dose_mg": 84, "devices": 3, "warnings": []}
    assert isinstance(response.json()["dose_mg"], int)


def test_84_mg_on_day_one_needs_an_override(prescriber):
    response = post_json(signed_in(prescriber), URL, ESKETAMINE | {"session_number": 1})

    assert response.status_code == 422
    assert fields_of(response) == {"dose_mg"}
    assert "56 mg" in response.json()["message"]


def test_an_out_of_range_dose_answers_422_naming_the_range(nurse):
    response = post_json(signed_in(nurse), URL, IV | {"dose_mg_per_kg": 1.5})

    assert response.status_code == 422
    assert fields_of(response) == {"dose_mg_per_kg"}
    assert "0.1-1.0 mg/kg" in response.json()["message"]


def test_an_override_reason_allows_it_with_a_warning_and_is_audited(prescriber):
    reason = "Partial response at 1.0 mg/kg; anaesthetist present"

    response = post_json(
        signed_in(prescriber), URL, IV | {"dose_mg_per_kg": 1.5, "override_reason": reason}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["dose_mg"] == 110.1
    assert len(body["warnings"]) == 1
    assert "0.1-1.0 mg/kg" in body["warnings"][0]
    assert reason in body["warnings"][0]
    assert last_event("dosing.calculate").detail["override_reason"] == reason


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (IV | {"weight_kg": 20}, "weight_kg"),
        (IV | {"weight_kg": 300}, "weight_kg"),
        (IV | {"duration_min": 90}, "duration_min"),
        (IV | {"route": "rectal"}, "route"),
        ({"weight_kg": 70, "dose_mg_per_kg": 0.5}, "route"),
        (IV | {"protocol": "iv_weekly"}, "protocol"),
        (ESKETAMINE | {"dose_mg": 70}, "dose_mg"),
        (ESKETAMINE | {"dose_mg": 28}, "dose_mg"),
        ({"route": "esketamine", "dose_mg": 56}, "age_years"),
        (IV | {"dose_mg_per_kg": None}, "dose_mg_per_kg"),
        (IV | {"dose_per_kg": 0.7}, "dose_per_kg"),
    ],
)
def test_bad_requests_answer_422_naming_the_field(nurse, body, field):
    response = post_json(signed_in(nurse), URL, body)

    assert response.status_code == 422
    assert fields_of(response) == {field}


def test_an_esketamine_dose_that_is_not_whole_devices_cannot_be_overridden(prescriber):
    response = post_json(
        signed_in(prescriber), URL, ESKETAMINE | {"dose_mg": 70, "override_reason": "why not"}
    )

    assert response.status_code == 422
    assert fields_of(response) == {"dose_mg"}


def test_a_named_protocol_is_used_instead_of_the_route_default(prescriber):
    response = post_json(
        signed_in(prescriber),
        URL,
        {"protocol": "esketamine_mdsi", "dose_mg": 84, "age_years": 40, "session_number": 1},
    )

    assert response.status_code == 200
    assert response.json() == {"dose_mg": 84, "devices": 3, "warnings": []}


def test_the_calculator_uses_the_clinics_edited_range(nurse):
    Protocol.objects.filter(code="iv_racemic").update(allowed_mg_per_kg_max="0.8")

    response = post_json(signed_in(nurse), URL, IV | {"dose_mg_per_kg": 0.9})

    assert response.status_code == 422
    assert "0.1-0.8 mg/kg" in response.json()["message"]


def test_only_staff_who_calculate_may_call_it(patient_a, clinic_admin, front_desk):
    assert post_json(signed_in(patient_a.user), URL, IV).status_code == 403
    assert post_json(signed_in(clinic_admin), URL, IV).status_code == 403
    assert post_json(signed_in(front_desk), URL, IV).status_code == 200
    assert post_json(Client(), URL, IV).status_code == 401
