"""POST /fhir/R4/: a Bundle from another EHR is validated, staged with its origin, never merged."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.staging_models import StagedImport, StagedItem, StagedStatus
from ketaclinic.patients.models import Diagnosis, Patient

pytestmark = pytest.mark.django_db


def token_client(user) -> Client:
    out = StringIO()
    call_command("token_create", user.username, "--name", "ehr", stdout=out)
    return Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip().split()[-1]}")


def bundle(*resources, kind="collection") -> dict:
    return {
        "resourceType": "Bundle",
        "id": "referral-42",
        "meta": {"source": "https://ehr.example.org"},
        "type": kind,
        "entry": [{"resource": r} for r in resources],
    }


PATIENT = {
    "resourceType": "Patient",
    "name": [{"family": "Alvarez", "given": ["Ada"]}],
    "birthDate": "1980-05-17",
}
CONDITION = {
    "resourceType": "Condition",
    "subject": {"reference": "Patient/x"},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.2"}]},
}


def post(client: Client, body) -> object:
    return client.post("/fhir/R4/", json.dumps(body), content_type="application/fhir+json")


def test_a_bundle_is_staged_with_its_origin_and_the_match_offered(prescriber, patient_a):
    diagnoses_before = Diagnosis.objects.count()
    response = post(token_client(prescriber), bundle(PATIENT, CONDITION, kind="transaction"))
    assert response.status_code == 201, response.content
    staged = StagedImport.objects.get()
    assert staged.sender == "https://ehr.example.org"
    assert staged.bundle_id == "referral-42"
    assert staged.received_by == prescriber
    assert staged.candidate_ids == [patient_a.pk]  # offered, not merged
    item = StagedItem.objects.get()
    assert item.resource_type == "Condition"
    assert item.status == StagedStatus.PENDING
    assert Diagnosis.objects.count() == diagnoses_before
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(action="fhir.import.staged").exists()


def test_a_new_person_is_offered_no_match(prescriber):
    post(token_client(prescriber), bundle(PATIENT | {"birthDate": "1970-01-01"}, CONDITION))
    assert StagedImport.objects.get().candidate_ids == []


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        (bundle(PATIENT, CONDITION | {"code": "F33.2"}), "Bundle.entry[1].resource.code"),
        (bundle(PATIENT, {"resourceType": "Appointment"}), "Bundle.entry[1].resource.resourceType"),
        (bundle(CONDITION), "Bundle.entry"),
        (bundle(PATIENT, PATIENT), "Bundle.entry"),
        (bundle(PATIENT, kind="searchset"), "Bundle.type"),
        ({"resourceType": "Patient"}, "Bundle"),
        (bundle(PATIENT, "text"), "Bundle.entry[1].resource"),
    ],
)
def test_a_bad_bundle_is_422_naming_the_entry_and_path(prescriber, body, expression):
    response = post(token_client(prescriber), body)
    assert response.status_code == 422, response.content
    issue = response.json()["issue"][0]
    assert issue["expression"][0].startswith(expression)
    assert not StagedImport.objects.exists()


def test_bodies_that_are_not_json_are_400(prescriber):
    client = token_client(prescriber)
    nul = json.dumps(bundle(PATIENT | {"gender": "female\x00"}))
    for raw in ("{", "NaN", '{"resourceType": "Bundle", "x": "\\u0000', nul):
        response = client.post("/fhir/R4/", raw, content_type="application/fhir+json")
        assert response.status_code == 400
    not_utf8 = client.post("/fhir/R4/", b"\xff\xfe{}", content_type="application/fhir+json")
    assert not_utf8.status_code == 400


def test_only_clinicians_import(front_desk, patient_a):
    response = post(token_client(front_desk), bundle(PATIENT, CONDITION))
    assert response.status_code == 403
    assert not StagedImport.objects.exists()


def test_a_patient_cannot_import(patient_a):
    assert post(token_client(patient_a.user), bundle(PATIENT)).status_code == 403


def test_importing_needs_a_bearer_token(prescriber):
    client = Client()
    client.force_login(prescriber)
    assert post(client, bundle(PATIENT)).status_code == 401
    assert post(Client(), bundle(PATIENT)).status_code == 401


# --- deciding on staged items (ketaclinic.fhir.staging) -------------------------------------


def staged_condition(prescriber, extra=None):
    post(token_client(prescriber), bundle(PATIENT, CONDITION | (extra or {})))
    return StagedItem.objects.get(resource_type="Condition")


def as_request(user):
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.user = user
    return request


def test_accepting_a_condition_creates_the_diagnosis_with_its_origin(prescriber, patient_a):
    from ketaclinic.fhir import staging

    item = staged_condition(prescriber, {"onsetDateTime": "2019-04-02"})
    diagnosis = staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    diagnosis.refresh_from_db()
    assert diagnosis.patient == patient_a
    assert diagnosis.icd10_code == "F33.2"
    assert str(diagnosis.onset_on) == "2019-04-02"
    assert diagnosis.recorded_by == prescriber
    assert "https://ehr.example.org" in diagnosis.notes
    assert "referral-42" in diagnosis.notes
    assert item.status == StagedStatus.ACCEPTED
    assert item.decided_by == prescriber
    assert AuditEvent.objects.filter(
        action="fhir.import.accepted", patient_id=patient_a.pk
    ).exists()
    with pytest.raises(staging.CannotAccept):
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert Diagnosis.objects.filter(patient=patient_a).count() == 1


def test_a_condition_without_icd10_cm_is_not_accepted(prescriber, patient_a):
    from ketaclinic.fhir import staging

    item = staged_condition(prescriber, {"code": {"text": "low mood"}})
    with pytest.raises(staging.CannotAccept) as refused:
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert refused.value.field == "code"
    item.refresh_from_db()
    assert item.status == StagedStatus.PENDING
    assert not Diagnosis.objects.exists()


def test_rejecting_leaves_the_record_alone(prescriber, patient_a):
    from ketaclinic.fhir import staging

    item = staged_condition(prescriber)
    staging.reject(request=as_request(prescriber), item=item, reason="Already on file.")
    assert item.status == StagedStatus.REJECTED
    assert not Diagnosis.objects.exists()
    assert AuditEvent.objects.filter(action="fhir.import.rejected").exists()
