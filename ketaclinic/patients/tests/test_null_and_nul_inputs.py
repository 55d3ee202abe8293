"""Inputs no record can hold answer 422 naming the field, never a 500.

``null`` in a text field of a patient change is refused (send an empty string to clear it);
a NUL character in any patient text field or in a search cannot be stored or searched on
PostgreSQL, so it is refused by field on the API and as a form error on the pages.
"""

from __future__ import annotations

import json

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.patients.models import Patient

TEXT_FIELDS = [
    "preferred_name",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
]
NEW = {"given_name": "Nia", "family_name": "Okafor", "date_of_birth": "1991-07-01", "sex": "female"}


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_null_in_a_text_field_is_refused_naming_it(front_desk, patient_a, field):
    before = Patient.objects.filter(pk=patient_a.pk).values().get()

    response = post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {field: None})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "message": "may not be null; send an empty string to clear it"}
    ]
    assert response.json()["message"].startswith(f"{field}: may not be null")
    assert Patient.objects.filter(pk=patient_a.pk).values().get() == before


def test_an_empty_string_clears_a_text_field(front_desk, patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(city="Lisbon")

    response = post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"city": ""})

    assert response.status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.city == ""


def test_null_clears_the_height(front_desk, patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(height_cm=170)

    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"height_cm": None}
    )

    assert response.status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.height_cm is None


def test_the_schema_documents_that_text_fields_are_not_nullable(front_desk):
    schema = signed_in(front_desk).get("/api/v1/openapi.json").json()
    change = next(
        body
        for name, body in schema["components"]["schemas"].items()
        if name.startswith("PatientChange")
    )

    city = change["properties"]["city"]
    assert city["type"] == "string"
    assert "send an empty string to clear it" in city["description"]


@pytest.mark.parametrize("field", ["city", "address", "given_name", "emergency_contact_name"])
def test_a_nul_character_in_a_change_is_refused_naming_the_field(front_desk, patient_a, field):
    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {field: "Lis\x00bon"}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    patient_a.refresh_from_db()
    assert "\x00" not in getattr(patient_a, field)


def test_a_nul_character_in_a_new_patient_is_refused(front_desk):
    response = post_json(signed_in(front_desk), "/api/v1/patients", NEW | {"city": "a\x00"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["city"]
    assert not Patient.objects.exists()


def test_a_nul_character_on_the_patient_form_is_refused(front_desk, patient_a):
    form = {"given_name": "Ada", "family_name": "Alvarez", "date_of_birth": "1980-05-17"}
    response = signed_in(front_desk).post(
        f"/patients/{patient_a.pk}/edit/", form | {"sex": "female", "city": "Lis\x00bon"}
    )

    # Refused at the door (the site's input guard) or by the form itself: never stored.
    assert response.status_code in (400, 422)
    page = response.content.decode()
    assert "NUL characters" in page or "Null characters are not allowed." in page
    patient_a.refresh_from_db()
    assert patient_a.city == ""


def test_a_nul_character_in_the_page_search_is_refused(front_desk, patient_a):
    response = signed_in(front_desk).get("/patients/?q=Ada%00")

    assert response.status_code in (400, 422)  # the site's input guard answers pages first
    assert "NUL characters" in response.content.decode()


def test_the_patient_list_itself_refuses_a_nul_search_with_a_form_error(
    front_desk, patient_a, settings
):
    # Without the site-wide input guard in front, the list view still refuses it.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "RefuseUnstorableInput" not in m]

    response = signed_in(front_desk).get("/patients/?q=Ada%00")

    assert response.status_code == 422
    assert "Search: may not contain NUL characters" in response.content.decode()
    event = AuditEvent.objects.filter(action="patient.list").latest("seq")
    assert event.outcome == Outcome.INVALID
    assert event.detail == {"errors": {"q": ["may not contain NUL characters (\\x00)"]}}


def test_a_nul_character_in_the_api_search_answers_422(front_desk, patient_a):
    response = signed_in(front_desk).get("/api/v1/patients?q=%00")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["q"]
