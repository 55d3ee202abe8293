"""Intake and consent over the API: documents, signing, intake answers, items for review."""

from __future__ import annotations

import json

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.intake import consent
from ketaclinic.intake.models import ConsentSignature, IntakeItem

ANSWERS = {
    "history": ["bipolar_disorder"],
    "pregnancy": "not_applicable",
    "emergency_contact": {"name": "Sam", "phone": "555-0101"},
    "driver": {"name": "Lee", "phone": "555-0102"},
}


def post(user, url, body):
    return signed_in(user).post(url, json.dumps(body), content_type="application/json")


def signature_body(**extra) -> dict:
    document = consent.documents()["esketamine_rems"]
    return {
        "document_code": document.code,
        "version": document.version,
        "sha256": document.sha256,
        "typed_name": "Ada Alvarez",
    } | extra


@pytest.mark.django_db
def test_anyone_signed_in_reads_the_documents_with_their_fingerprint(nurse):
    response = signed_in(nurse).get("/api/v1/consent-documents")

    assert response.status_code == 200
    codes = {d["code"]: d for d in response.json()}
    assert codes["iv_ketamine"]["sha256"] == consent.documents()["iv_ketamine"].sha256


@pytest.mark.django_db
def test_the_patient_signs_through_the_api(patient_a):
    url = f"/api/v1/patients/{patient_a.pk}/consents"

    response = post(patient_a.user, url, signature_body())

    assert response.status_code == 201
    assert response.json()["current"] is True
    stored = ConsentSignature.objects.get(patient=patient_a)
    assert stored.document_code == "esketamine_rems"
    assert AuditEvent.objects.filter(action="consent.sign", patient_id=patient_a.pk).exists()
    assert post(patient_a.user, url, signature_body()).status_code == 409
    listed = signed_in(patient_a.user).get(url)
    assert [s["document_code"] for s in listed.json()] == ["esketamine_rems"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"sha256": "f" * 64}, 409, None),
        ({"version": 7}, 409, None),
        ({"typed_name": "A. Alvarez"}, 422, "typed_name"),
        ({"document_code": "nope"}, 422, "document_code"),
    ],
)
@pytest.mark.django_db
def test_a_wrong_signature_is_refused_and_nothing_is_stored(patient_a, change, status, field):
    response = post(
        patient_a.user, f"/api/v1/patients/{patient_a.pk}/consents", signature_body(**change)
    )

    assert response.status_code == status
    if field:
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not ConsentSignature.objects.exists()


@pytest.mark.django_db
def test_only_the_patient_signs_and_only_their_own(patient_a, patient_b, nurse, outsider):
    url = f"/api/v1/patients/{patient_a.pk}/consents"

    assert post(nurse, url, signature_body()).status_code == 403
    assert post(patient_b.user, url, signature_body()).status_code == 404
    assert post(outsider, url, signature_body()).status_code == 404
    assert not ConsentSignature.objects.exists()


@pytest.mark.django_db
def test_the_patient_sends_intake_and_a_clinician_lists_it(patient_a, nurse, patient_b):
    response = post(patient_a.user, f"/api/v1/patients/{patient_a.pk}/intake", {"answers": ANSWERS})

    assert response.status_code == 201
    assert response.json()["items"] == IntakeItem.objects.filter(patient=patient_a).count() == 4
    listed = signed_in(nurse).get(f"/api/v1/patients/{patient_a.pk}/intake-items")
    assert listed.status_code == 200
    assert listed.json()[0]["origin"] == "patient-reported intake, awaiting confirmation"
    assert (
        signed_in(patient_b.user).get(f"/api/v1/patients/{patient_a.pk}/intake-items").status_code
        == 404
    )


@pytest.mark.django_db
def test_invalid_intake_names_the_field(patient_a):
    response = post(
        patient_a.user,
        f"/api/v1/patients/{patient_a.pk}/intake",
        {"answers": {**ANSWERS, "pregnancy": "maybe"}},
    )

    assert response.status_code == 422
    assert "pregnancy" in [e["field"] for e in response.json()["errors"]]
    assert not IntakeItem.objects.exists()
