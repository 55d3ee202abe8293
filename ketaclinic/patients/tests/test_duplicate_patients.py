"""Registering someone the clinic already has shows the match and needs "create anyway".

Page: the matching records are listed (audited as reads) with a "Create anyway" button.
API: 409 with the candidate ids unless ``"confirm_duplicate": true``. A refused duplicate
and a confirmed one both leave audit rows.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.patients.models import Patient

BORN = dt.date(1984, 3, 9)
FORM = {"given_name": "Jose", "family_name": "GARCIA", "date_of_birth": "1984-03-09", "sex": "male"}


@pytest.fixture
def jose(db):
    return make_patient("José", "García", date_of_birth=BORN, sex="male")


def post_json(client, data):
    return client.post("/api/v1/patients", json.dumps(data), content_type="application/json")


def refusals():
    return AuditEvent.objects.filter(action="patient.create", outcome=Outcome.REFUSED)


def test_the_api_answers_409_with_the_matching_record(jose, front_desk):
    response = post_json(signed_in(front_desk), FORM)

    assert response.status_code == 409
    body = response.json()
    assert body["candidates"] == [jose.pk]
    assert body["errors"][0]["field"] == "confirm_duplicate"
    assert "already name this person" in body["message"]
    assert Patient.objects.count() == 1
    (event,) = refusals()
    assert event.actor == front_desk
    assert event.detail["candidates"] == [jose.pk]
    shown = AuditEvent.objects.get(action="patient.view", patient_id=jose.pk)
    assert shown.detail == {"section": "duplicate-check"}


def test_the_api_creates_anyway_when_confirmed_and_audits_it(jose, front_desk):
    response = post_json(signed_in(front_desk), FORM | {"confirm_duplicate": True})

    assert response.status_code == 201
    created = Patient.objects.get(pk=response.json()["id"])
    assert created.pk != jose.pk
    event = AuditEvent.objects.get(action="patient.create", outcome=Outcome.SUCCESS)
    assert event.patient_id == created.pk
    assert event.detail["confirmed_not_duplicate_of"] == [jose.pk]


def test_another_date_of_birth_is_another_person(jose, front_desk):
    response = post_json(signed_in(front_desk), FORM | {"date_of_birth": "1984-03-10"})

    assert response.status_code == 201
    assert not refusals().exists()
    created = AuditEvent.objects.get(action="patient.create", outcome=Outcome.SUCCESS)
    assert "confirmed_not_duplicate_of" not in created.detail


def test_the_page_shows_the_match_and_needs_create_anyway(jose, front_desk):
    client = signed_in(front_desk)

    first = client.post("/patients/new/", FORM)

    assert first.status_code == 409
    page = first.content.decode()
    assert jose.mrn in page
    assert f"/patients/{jose.pk}/" in page
    assert 'name="confirm_duplicate"' in page
    assert Patient.objects.count() == 1
    assert refusals().count() == 1

    anyway = client.post(
        "/patients/new/", FORM | {"confirm_duplicate": "yes", "duplicate_of": [str(jose.pk)]}
    )

    assert anyway.status_code == 302
    assert Patient.objects.count() == 2
    event = AuditEvent.objects.get(action="patient.create", outcome=Outcome.SUCCESS)
    assert event.detail["confirmed_not_duplicate_of"] == [jose.pk]


def test_create_anyway_covers_only_the_records_the_page_showed(jose, front_desk):
    other = make_patient("JOSÉ", "garcía", date_of_birth=BORN, sex="male")

    response = signed_in(front_desk).post(
        "/patients/new/", FORM | {"confirm_duplicate": "yes", "duplicate_of": [str(jose.pk)]}
    )

    assert response.status_code == 409
    assert other.mrn in response.content.decode()
    assert Patient.objects.count() == 2


def test_a_patient_account_cannot_register_anyone(jose, patient_a):
    response = post_json(signed_in(patient_a.user), FORM | {"confirm_duplicate": True})

    assert response.status_code == 403
    assert Patient.objects.filter(family_name="GARCIA").count() == 0
