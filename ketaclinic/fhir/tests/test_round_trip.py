"""Round trip: a patient exported by Patient/$export, sent back as a collection Bundle,
created as a new patient (the match confirmed) with every staged diagnosis accepted, matches
the original field by field."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from ketaclinic.conftest import signed_in
from ketaclinic.fhir import staging
from ketaclinic.fhir.staging_models import StagedImport, StagedItem
from ketaclinic.patients.models import Diagnosis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"


def exported_resources(client: Client, patient) -> list[dict]:
    kick = client.get(
        "/fhir/R4/Patient/$export", {"_type": "Patient,Condition"}, HTTP_PREFER="respond-async"
    )
    status = kick["Content-Location"].removeprefix("http://testserver")
    call_command("fhir_export_worker", "--once", stdout=StringIO())
    found = []
    for output in client.get(status).json()["output"]:
        body = client.get(output["url"].removeprefix("http://testserver"))
        for line in b"".join(body.streaming_content).decode().splitlines():
            resource = json.loads(line)
            own = resource["id"] == str(patient.pk)
            subject = resource.get("subject", {}).get("reference") == f"Patient/{patient.pk}"
            if own or subject:
                found.append(resource)
    return found


def test_an_exported_patient_imported_and_accepted_matches_the_original(prescriber, patient_a):
    for code, onset in (("F33.2", dt.date(2018, 3, 1)), ("F41.1", None)):
        Diagnosis.objects.create(
            patient=patient_a, icd10_code=code, onset_on=onset, recorded_by=prescriber
        )
    resources = exported_resources(signed_in(prescriber), patient_a)
    assert sorted(r["resourceType"] for r in resources) == ["Condition", "Condition", "Patient"]
    for resource in resources:
        resource.pop("identifier", None)  # another clinic's MRN means nothing here
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "meta": {"source": "https://other-clinic.example"},
        "entry": [{"resource": r} for r in resources],
    }
    out = StringIO()
    call_command("token_create", prescriber.username, "--name", "ehr", stdout=out)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip().split()[-1]}")
    answer = client.post("/fhir/R4/", json.dumps(bundle), content_type="application/fhir+json")
    assert answer.status_code == 201, answer.content
    staged = StagedImport.objects.get()
    assert staged.candidate_ids == [patient_a.pk]

    request = RequestFactory().post("/")
    request.user = prescriber
    copy = staging.create_patient(
        request=request, staged=staged, confirm_duplicate=True, confirmed_ids=[patient_a.pk]
    )
    for item in StagedItem.objects.filter(staged_import=staged):
        staging.accept(request=request, item=item, patient=copy)

    copy.refresh_from_db()
    assert copy.pk != patient_a.pk
    for field in ("given_name", "family_name", "date_of_birth", "sex"):
        assert getattr(copy, field) == getattr(patient_a, field), field
    original = sorted(
        (d.icd10_code, d.onset_on) for d in Diagnosis.objects.filter(patient=patient_a)
    )
    imported = sorted((d.icd10_code, d.onset_on) for d in Diagnosis.objects.filter(patient=copy))
    assert imported == original
