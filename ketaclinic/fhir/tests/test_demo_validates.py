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
        "AllergyIntolerance",
        "AdverseEvent",
        "Consent",
    ):
        assert seen[name] > 0, name


def test_shared_definitions_and_the_audit_trail_validate(demo_clinic):
    for name in ("Practitioner", "Questionnaire", "AuditEvent"):
        resources = list(iter_resources(name))
        assert resources, name
        for resource in resources[:2000]:
            validate(resource)


# fhir.resources checks structure and types but not required code bindings: the status
# words each resource uses, from the FHIR R4 value sets (required bindings).
REQUIRED_CODES = {
    "Patient": ("gender", {"male", "female", "other", "unknown"}),
    "MedicationStatement": (
        "status",
        {
            "active",
            "completed",
            "entered-in-error",
            "intended",
            "stopped",
            "on-hold",
            "unknown",
            "not-taken",
        },
    ),
    "Observation": (
        "status",
        {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        },
    ),
    "QuestionnaireResponse": (
        "status",
        {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ),
    "Appointment": (
        "status",
        {
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        },
    ),
    "Encounter": (
        "status",
        {
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        },
    ),
    "MedicationAdministration": (
        "status",
        {
            "in-progress",
            "not-done",
            "on-hold",
            "completed",
            "entered-in-error",
            "stopped",
            "unknown",
        },
    ),
    "CarePlan": (
        "status",
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ),
    "Consent": (
        "status",
        {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    ),
    "AdverseEvent": ("actuality", {"actual", "potential"}),
    "Questionnaire": ("status", {"draft", "active", "retired", "unknown"}),
}


def test_status_words_are_from_the_required_value_sets(demo_clinic):
    for name, (element, allowed) in REQUIRED_CODES.items():
        used = {resource[element] for resource in iter_resources(name)}
        assert used, name
        assert used <= allowed, (name, used - allowed)


def test_streaming_keeps_queries_per_chunk_bounded(demo_clinic, django_assert_max_num_queries):
    # 13 observation sources; each chunk is one SELECT plus its prefetches (at most one).
    rows = 0
    with django_assert_max_num_queries(60):
        for _ in iter_resources("Observation", chunk_size=100):
            rows += 1
    assert rows > 900
    stream = iter_resources("MedicationAdministration", chunk_size=10)
    assert next(stream)["resourceType"] == "MedicationAdministration"
