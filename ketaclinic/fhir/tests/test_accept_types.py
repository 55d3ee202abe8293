"""Accepting every staged type, with what the clinician supplies (ketaclinic.fhir.staging)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir import staging
from ketaclinic.fhir.staging_models import StagedItem, StagedStatus
from ketaclinic.fhir.tests.test_import import PATIENT, as_request, bundle, post, token_client
from ketaclinic.patients.models import Allergy, Medication, WeightMeasurement

pytestmark = pytest.mark.django_db

LOINC = "http://loinc.org"
MEDICATION = {
    "resourceType": "MedicationStatement",
    "status": "active",
    "subject": {"reference": "Patient/x"},
    "medicationCodeableConcept": {"text": "Sertraline"},
    "dosage": [{"text": "100 mg once daily"}],
    "effectivePeriod": {"start": "2024-02-01"},
}
ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "patient": {"reference": "Patient/x"},
    "code": {"text": "Penicillin"},
    "reaction": [{"manifestation": [{"text": "Hives"}]}],
}


def observation(code: str, value: float, unit: str) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": "Patient/x"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": "2025-01-10",
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def staged(prescriber, resource) -> StagedItem:
    post(token_client(prescriber), bundle(PATIENT, resource))
    return StagedItem.objects.get(resource_type=resource["resourceType"])


def test_a_medication_is_accepted_with_the_class_the_clinician_chose(prescriber, patient_a):
    item = staged(prescriber, MEDICATION)
    with pytest.raises(staging.CannotAccept) as refused:
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert refused.value.field == "drug_class"
    staging.accept(
        request=as_request(prescriber),
        item=item,
        patient=patient_a,
        supplied={"drug_class": "ssri"},
    )
    medication = Medication.objects.get(patient=patient_a)
    assert (medication.name, medication.drug_class, medication.dose) == (
        "Sertraline",
        "ssri",
        "100 mg once daily",
    )
    assert str(medication.started_on) == "2024-02-01"
    assert medication.recorded_by == prescriber
    item.refresh_from_db()
    assert item.status == StagedStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="medication.create", patient_id=patient_a.pk).exists()


def test_an_allergy_without_severity_needs_one(prescriber, patient_a):
    item = staged(prescriber, ALLERGY)
    with pytest.raises(staging.CannotAccept) as refused:
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert refused.value.field == "severity"
    staging.accept(
        request=as_request(prescriber),
        item=item,
        patient=patient_a,
        supplied={"severity": "severe"},
    )
    allergy = Allergy.objects.get(patient=patient_a)
    assert (allergy.substance, allergy.reaction, allergy.severity) == (
        "Penicillin",
        "Hives",
        "severe",
    )


def test_a_weight_in_kg_becomes_a_weight_measurement(prescriber, patient_a):
    item = staged(prescriber, observation("29463-7", 81.25, "kg"))
    staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    weight = WeightMeasurement.objects.get(patient=patient_a)
    assert weight.weight_kg == Decimal("81.2") or weight.weight_kg == Decimal("81.3")
    assert str(weight.measured_on) == "2025-01-10"


def test_a_height_in_cm_updates_the_patient(prescriber, patient_a):
    item = staged(prescriber, observation("8302-2", 172, "cm"))
    staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    patient_a.refresh_from_db()
    assert patient_a.height_cm == Decimal("172.0")


def test_a_weight_in_pounds_is_refused_naming_the_unit(prescriber, patient_a):
    item = staged(prescriber, observation("29463-7", 180, "[lb_av]"))
    with pytest.raises(staging.CannotAccept) as refused:
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert refused.value.field == "unit"
    assert "kg" in refused.value.message
    assert not WeightMeasurement.objects.exists()
    item.refresh_from_db()
    assert item.status == StagedStatus.PENDING


def test_another_observation_is_refused_with_its_name(prescriber, patient_a):
    resource = observation("8867-4", 70, "/min") | {
        "code": {"text": "Heart rate", "coding": [{"system": LOINC, "code": "8867-4"}]}
    }
    item = staged(prescriber, resource)
    with pytest.raises(staging.CannotAccept) as refused:
        staging.accept(request=as_request(prescriber), item=item, patient=patient_a)
    assert refused.value.field == "code"
    assert "Heart rate" in refused.value.message


def test_rejecting_needs_a_reason(prescriber):
    item = staged(prescriber, ALLERGY)
    with pytest.raises(staging.CannotAccept) as refused:
        staging.reject(request=as_request(prescriber), item=item, reason="  ")
    assert refused.value.field == "reason"
    staging.reject(request=as_request(prescriber), item=item, reason="Not this patient's.")
    item.refresh_from_db()
    assert (item.status, item.reason) == (StagedStatus.REJECTED, "Not this patient's.")
