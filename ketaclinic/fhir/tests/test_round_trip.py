"""Round trip: a patient exported by Patient/$export, sent back as a collection Bundle,
created as a new patient (the match confirmed) with every staged item accepted (diagnoses, a
medication with its class chosen by the clinician, an allergy, a weight), matches the
original field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from ketaclinic.conftest import signed_in
from ketaclinic.fhir import staging
from ketaclinic.fhir.staging_models import StagedImport, StagedItem
from ketaclinic.patients.models import Allergy, Diagnosis, Medication, WeightMeasurement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"


def exported_resources(client: Client, patient) -> list[dict]:
    kick = client.get(
        "/fhir/R4/Patient/$export",
        {"_type": "Patient,Condition,MedicationStatement,AllergyIntolerance,Observation"},
        HTTP_PREFER="respond-async",
    )
    status = kick["Content-Location"].removeprefix("http://testserver")
    call_command("fhir_export_worker", "--once", stdout=StringIO())
    found = []
    for output in client.get(status).json()["output"]:
        body = client.get(output["url"].removeprefix("http://testserver"))
        for line in b"".join(body.streaming_content).decode().splitlines():
            resource = json.loads(line)
            own = resource["resourceType"] == "Patient" and resource["id"] == str(patient.pk)
            theirs = f"Patient/{patient.pk}"
            subject = theirs in (
                resource.get(field, {}).get("reference") for field in ("subject", "patient")
            )
            if own or subject:
                found.append(resource)
    return found


def test_an_exported_patient_imported_and_accepted_matches_the_original(prescriber, patient_a):
    for code, onset in (("F33.2", dt.date(2018, 3, 1)), ("F41.1", None)):
        Diagnosis.objects.create(
            patient=patient_a, icd10_code=code, onset_on=onset, recorded_by=prescriber
        )
    Medication.objects.create(
        patient=patient_a,
        name="Sertraline",
        drug_class="ssri",
        dose="100 mg",
        started_on=dt.date(2023, 5, 2),
        recorded_by=prescriber,
    )
    Allergy.objects.create(
        patient=patient_a,
        substance="Penicillin",
        reaction="Hives",
        severity="moderate",
        recorded_by=prescriber,
    )
    WeightMeasurement.objects.create(
        patient=patient_a,
        weight_kg=Decimal("81.4"),
        measured_on=dt.date(2025, 1, 10),
        recorded_by=prescriber,
    )
    patient_a.height_cm = None
    patient_a.save(update_fields=["height_cm"])
    resources = exported_resources(signed_in(prescriber), patient_a)
    assert sorted(r["resourceType"] for r in resources) == [
        "AllergyIntolerance",
        "Condition",
        "Condition",
        "MedicationStatement",
        "Observation",
        "Patient",
    ]
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
        # What the bundle cannot carry in the clinic's terms, the clinician chooses.
        supplied = {"drug_class": "ssri"} if item.resource_type == "MedicationStatement" else {}
        staging.accept(request=request, item=item, patient=copy, supplied=supplied)

    copy.refresh_from_db()
    assert copy.pk != patient_a.pk
    for field in ("given_name", "family_name", "date_of_birth", "sex"):
        assert getattr(copy, field) == getattr(patient_a, field), field
    original = sorted(
        (d.icd10_code, d.onset_on) for d in Diagnosis.objects.filter(patient=patient_a)
    )
    imported = sorted((d.icd10_code, d.onset_on) for d in Diagnosis.objects.filter(patient=copy))
    assert imported == original

    def rows(model, *fields):
        return [
            sorted(model.objects.filter(patient=p).values_list(*fields)) for p in (patient_a, copy)
        ]

    original, imported = rows(
        Medication, "name", "drug_class", "dose", "frequency", "started_on", "stopped_on", "status"
    )
    assert imported == original
    original, imported = rows(Allergy, "substance", "reaction", "severity", "status")
    assert imported == original
    original, imported = rows(WeightMeasurement, "weight_kg", "measured_on", "status")
    assert imported == original
    for model in (Diagnosis, Medication, Allergy, WeightMeasurement):
        assert all(e.recorded_by == prescriber for e in model.objects.filter(patient=copy))
