"""What the FHIR face serves: each resource type, where its rows live, and how it is searched.

A **resource type** (``Observation``) is one or more **sources** (``resource_type``); a
source is one model queryset (``sources``) whose every row becomes exactly one resource
through its ``to_fhir(obj) -> dict`` (``ketaclinic.fhir.resources``). One row, one resource
keeps paging exact and lets every search parameter become a database filter. A type with
several sources gives each an id prefix (``Observation/hr-12`` is the heart rate of
vital-sign reading 12); a type with one source uses the row's primary key as its id.

The CapabilityStatement (``GET /fhir/R4/metadata``) is generated from the registry.

Streaming for Bulk Data export::

    from ketaclinic.fhir.registry import iter_resources
    for resource in iter_resources("Observation", patient_ids=[1, 2], since=moment):
        ...  # a dict, ready for json.dumps; one NDJSON line

``iter_resources`` walks each source with ``.iterator(chunk_size=CHUNK)``; Django runs the
source's ``prefetch_related`` once per chunk, so memory stays flat (no list of all
resources) and the query count per chunk is bounded by the number of prefetches. It does
no access checks: the caller (the export job) decides which patients the requester may see.
AuditEvent is served only to a clinic admin (``audit.view``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.db.models import QuerySet

from . import resources, sources
from .resource_type import ResourceType, Source

__all__ = [
    "CHUNK",
    "ResourceType",
    "Source",
    "build",
    "changed_since",
    "for_patients",
    "get",
    "iter_resources",
    "registry",
]

CHUNK = 2000


def _people() -> list[ResourceType]:
    return [
        ResourceType(
            "Patient",
            (
                Source(
                    sources.patients,
                    resources.patient,
                    patient_field="pk",
                    updated_field="created_at",
                ),
            ),
            "patient.view",
            "Demographics and the clinic's MRN",
            patient_is_self=True,
        ),
        ResourceType(
            "Practitioner",
            (
                Source(
                    sources.practitioners,
                    resources.practitioner,
                    patient_field=None,
                    updated_field="date_joined",
                ),
            ),
            "patient.list",
            "The clinic's staff",
        ),
    ]


def _clinical_lists() -> list[ResourceType]:
    return [
        ResourceType(
            "Condition",
            (
                Source(
                    sources.plain("patients.Diagnosis"),
                    resources.condition,
                    date_field="onset_on",
                    updated_field="recorded_at",
                    code_filter=sources.condition_code,
                ),
            ),
            "patient.view_clinical",
            "Diagnoses, coded in ICD-10-CM",
        ),
        ResourceType(
            "AllergyIntolerance",
            (
                Source(
                    sources.plain("patients.Allergy"),
                    resources.allergy,
                    date_field="recorded_at",
                    updated_field="recorded_at",
                ),
            ),
            "patient.view_clinical",
            "Allergies (substance as text)",
        ),
        ResourceType(
            "MedicationStatement",
            (
                Source(
                    sources.plain("patients.Medication"),
                    resources.medication,
                    prefix="med",
                    date_field="started_on",
                    updated_field="recorded_at",
                ),
                Source(
                    sources.plain("patients.AntidepressantTrial"),
                    resources.antidepressant_trial,
                    prefix="trial",
                    date_field="started_on",
                    updated_field="recorded_at",
                ),
            ),
            "patient.view_clinical",
            "Current medications (med-) and past antidepressant trials (trial-)",
        ),
    ]


def _observations() -> ResourceType:
    vital = sources.vital_source
    return ResourceType(
        "Observation",
        (
            Source(
                sources.blood_pressure,
                resources.blood_pressure,
                prefix="bp",
                patient_field="session__patient_id",
                date_field="at",
                updated_field="recorded_at",
                codes=sources.vital_codes("bp_panel", "systolic", "diastolic"),
            ),
            vital("heart_rate", "heart_rate_bpm", "hr"),
            vital("spo2", "spo2_pct", "spo2", "spo2_pulse_oximetry"),
            vital("respiratory_rate", "resp_rate_per_min", "rr"),
            vital("body_temperature", "temperature_c", "temp"),
            Source(
                sources.plain("patients.WeightMeasurement"),
                resources.weight,
                prefix="weight",
                date_field="measured_on",
                updated_field="recorded_at",
                codes=sources.vital_codes("body_weight"),
            ),
            Source(
                sources.heights,
                resources.height,
                prefix="height",
                patient_field="pk",
                updated_field="created_at",
                codes=sources.vital_codes("body_height"),
            ),
            *_instrument_observations(),
        ),
        "patient.view_clinical",
        "Vital signs (LOINC, UCUM), weight, height, instrument totals with item answers, "
        "dissociation ratings",
    )


def _instrument_observations() -> tuple[Source, ...]:
    """Scores: an instrument's total (with item answers) and the dissociation rating."""
    return (
        Source(
            sources.scored_responses,
            resources.instrument_total,
            prefix="score",
            date_field="submitted_at",
            updated_field="updated_at",
            code_filter=sources.instrument_code,
        ),
        sources.session_entry(
            "charting.DissociationRating", resources.dissociation, prefix="dissociation"
        ),
    )


def _questionnaires() -> list[ResourceType]:
    return [
        ResourceType(
            "Questionnaire",
            (
                Source(
                    sources.plain("outcomes.InstrumentDefinition"),
                    resources.questionnaire,
                    patient_field=None,
                    updated_field="loaded_at",
                    code_filter=sources.questionnaire_code,
                    lookup=sources.questionnaire_lookup,
                ),
            ),
            "patient.view",
            "Every shipped instrument; id is the instrument code",
        ),
        ResourceType(
            "QuestionnaireResponse",
            (
                Source(
                    sources.responses,
                    resources.questionnaire_response,
                    date_field="submitted_at",
                    updated_field="updated_at",
                ),
            ),
            "patient.view_clinical",
            "Every answered instrument",
        ),
    ]


def _visits() -> list[ResourceType]:
    return [
        ResourceType(
            "Appointment",
            (
                Source(
                    sources.plain("scheduling.Appointment", "type"),
                    resources.appointment,
                    date_field="starts_at",
                    updated_field="created_at",
                ),
            ),
            "appointment.view",
            "Booked visits",
        ),
        ResourceType(
            "Encounter",
            (
                Source(
                    sources.plain("charting.TreatmentSession"),
                    resources.encounter,
                    date_field="opened_at",
                    updated_field="opened_at",
                ),
            ),
            "patient.view_clinical",
            "Each treatment session",
        ),
    ]


def _treatment() -> list[ResourceType]:
    session_entry = sources.session_entry
    return [
        ResourceType(
            "MedicationAdministration",
            (
                Source(
                    sources.segments,
                    resources.infusion_segment,
                    prefix="segment",
                    patient_field="session__patient_id",
                    date_field="at",
                    updated_field="recorded_at",
                ),
                session_entry("charting.BolusDose", resources.bolus, prefix="bolus"),
                session_entry("charting.NasalDevice", resources.nasal_device, prefix="device"),
            ),
            "patient.view_clinical",
            "Each infusion segment (segment-), bolus (bolus-) and esketamine device (device-), "
            "with the delivered amount computed from the record",
        ),
        ResourceType(
            "AdverseEvent",
            (session_entry("charting.AdverseEvent", resources.adverse_event),),
            "patient.view_clinical",
            "Adverse events during treatment sessions",
        ),
        ResourceType(
            "CarePlan",
            (
                Source(
                    sources.plans,
                    resources.care_plan,
                    date_field="start_date",
                    updated_field="signed_at",
                ),
            ),
            "plan.view_dose",
            "Signed treatment plans with their planned sessions",
        ),
    ]


def _consents() -> list[ResourceType]:
    """Signed consents, when the intake app (which keeps them) is installed."""
    if not consent_available():
        return []
    source = Source(
        sources.plain("intake.ConsentSignature"),
        resources.consent,
        date_field="signed_at",
        updated_field="signed_at",
    )
    return [
        ResourceType("Consent", (source,), "patient.view_clinical", "Signed treatment consents")
    ]


def _audit_events() -> ResourceType:
    source = Source(
        sources.plain("audit.AuditEvent"),
        resources.audit_event,
        date_field="at",
        updated_field="at",
    )
    return ResourceType(
        "AuditEvent", (source,), "audit.view", "The audit trail (clinic admin only)"
    )


def build() -> dict[str, ResourceType]:
    """Every served resource type by name, in the CapabilityStatement's order."""
    types = [
        *_people(),
        *_clinical_lists(),
        _observations(),
        *_questionnaires(),
        *_visits(),
        *_treatment(),
        *_consents(),
        _audit_events(),
    ]
    return {t.name: t for t in types}


def consent_available() -> bool:
    try:
        apps.get_model("intake", "ConsentSignature")
    except LookupError:
        return False
    return True


_REGISTRY: dict[str, ResourceType] | None = None


def registry() -> dict[str, ResourceType]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = build()
    return _REGISTRY


def get(type_name: str) -> ResourceType | None:
    return registry().get(type_name)


def for_patients(source: Source, qs: QuerySet, patient_ids: Iterable[int] | None) -> QuerySet:
    """Rows of these patients only; a source with no patient returns nothing when asked."""
    if patient_ids is None:
        return qs
    if source.patient_field is None:
        return qs.none()
    return qs.filter(**{f"{source.patient_field}__in": list(patient_ids)})


def changed_since(source: Source, qs: QuerySet, moment: dt.datetime | None) -> QuerySet:
    if moment is None or source.updated_field is None:
        return qs
    return qs.filter(**{f"{source.updated_field}__gt": moment})


def iter_resources(
    type_name: str,
    *,
    patient_ids: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    chunk_size: int = CHUNK,
) -> Iterator[dict]:
    """Every resource of ``type_name`` (optionally of these patients, changed after
    ``since``), streamed: memory flat, a bounded number of queries per chunk."""
    resource_type = registry()[type_name]
    ids = list(patient_ids) if patient_ids is not None else None
    for source in resource_type.sources:
        qs = for_patients(source, source.queryset(), ids)
        qs = changed_since(source, qs, since)
        for obj in qs.iterator(chunk_size=chunk_size):
            yield source.to_fhir(obj)
