"""Every resource the FHIR face emits for the demo clinic validates against FHIR R4B models."""

from __future__ import annotations

from collections import Counter

import pytest

from ketaclinic.fhir.registry import iter_resources, registry
from ketaclinic.patients.models import Patient

from .validation import validate

pytestmark = pytest.mark.django_db


def test_every_resource_of_every_demo_patient_validates(demo_clinic):
    patient_ids = list(Patient.objects.values_list("pk", flat=True))
    assert len(patient_ids) >= 40
    seen: Counter = Counter()
    for name in registry():
        for resource in iter_resources(name, patient_ids=patient_ids, chunk_size=200):
            validate(resource)
            seen[name] += 1
    for name in (
        "Patient",
        "Condition",
        "MedicationStatement",
        "Observation",
        "QuestionnaireResponse",
        "Appointment",
        "Encounter",
        "MedicationAdministration",
        "CarePlan",
    ):
        assert seen[name] > 0, name


def test_shared_definitions_and_the_audit_trail_validate(demo_clinic):
    for name in ("Practitioner", "Questionnaire", "AuditEvent"):
        resources = list(iter_resources(name))
        assert resources, name
        for resource in resources[:2000]:
            validate(resource)
