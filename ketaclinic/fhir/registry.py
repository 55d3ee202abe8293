"""What the FHIR face serves: each resource type, where its rows live, and how it is searched.

A **resource type** (``Observation``) is one or more **sources**; a source is one model
queryset whose every row becomes exactly one resource through its ``to_fhir(obj) -> dict``
(``ketaclinic.fhir.resources``). One row, one resource keeps paging exact and lets every
search parameter become a database filter. A type with several sources gives each an id
prefix (``Observation/hr-12`` is the heart rate of vital-sign reading 12); a type with one
source uses the row's primary key as its id.

Each source declares:

- ``queryset``: the rows, with the ``select_related``/``prefetch_related`` its ``to_fhir``
  needs, so serialising costs no query per object;
- ``patient_field``: the lookup to the patient (``patient_id``, ``session__patient_id``);
  ``None`` for shared definitions (Practitioner, Questionnaire);
- ``date_field``: what ``date`` searches (a DateField or DateTimeField);
- ``updated_field``: what ``_lastUpdated`` and bulk ``_since`` search, and ``meta.lastUpdated``;
- ``codes``: the fixed ``(system, code)`` pairs every resource of the source carries, or
  ``code_filter(system, code) -> Q | None`` where the code comes from the row.

The CapabilityStatement (``GET /fhir/R4/metadata``) is generated from ``REGISTRY``.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from . import codes, resources

CHUNK = 2000


@dataclass(frozen=True)
class Source:
    queryset: Callable[[], QuerySet]
    to_fhir: Callable[[Any], dict]
    prefix: str = ""
    patient_field: str | None = "patient_id"
    date_field: str | None = None
    updated_field: str | None = None
    codes: tuple[tuple[str, str], ...] = ()
    code_filter: Callable[[str | None, str], Q | None] | None = None
    # The filter finding the row behind an id (without its prefix); None: not one of ours.
    lookup: Callable[[str], Q | None] | None = None

    def find(self, key: str) -> Q | None:
        if self.lookup is not None:
            return self.lookup(key)
        return Q(pk=int(key)) if key.isdigit() and len(key) < 19 else None

    @property
    def searchable_by_code(self) -> bool:
        return bool(self.codes) or self.code_filter is not None


@dataclass(frozen=True)
class ResourceType:
    name: str
    sources: tuple[Source, ...]
    permission: str
    documentation: str
    # Search by patient on Patient itself means the resource id.
    patient_is_self: bool = False
    search_extra: tuple[str, ...] = field(default=())

    def source_for(self, resource_id: str) -> tuple[Source, str] | None:
        """The source and primary key behind ``resource_id``, or None if not ours."""
        head, _, key = resource_id.partition("-")
        for source in self.sources:
            if not source.prefix:
                return source, resource_id
            if head == source.prefix and key:
                return source, key
        return None

    @property
    def search_params(self) -> list[tuple[str, str, str]]:
        """(name, FHIR type, documentation) of every search parameter this type supports."""
        params = [("_id", "token", "Logical id of the resource")]
        if any(s.updated_field for s in self.sources):
            params.append(("_lastUpdated", "date", "When the resource last changed"))
        if self.patient_is_self or any(s.patient_field for s in self.sources):
            params.append(("patient", "reference", "The patient (Patient/id or id)"))
        if any(s.date_field for s in self.sources):
            params.append(("date", "date", "Clinical date, with prefixes eq, ge, gt, le, lt"))
        if any(s.searchable_by_code for s in self.sources):
            params.append(("code", "token", "A code, as system|code or code"))
        return params


# --- Querysets ----------------------------------------------------------------------------
# Imported inside the functions: the registry module is imported by apps.py-free code
# (tests, the bulk worker) and must not touch models before the app registry is ready.


def _patients():
    from ketaclinic.patients.models import Patient

    return Patient.objects.order_by("pk")


def _heights():
    return _patients().filter(height_cm__isnull=False)


def _practitioners():
    from ketaclinic.accounts.models import User
    from ketaclinic.accounts.roles import Role

    return User.objects.exclude(role=Role.PATIENT).order_by("pk")


def _model(app_model: str):
    from django.apps import apps

    return apps.get_model(app_model)


def _plain(app_model: str, *related: str):
    def queryset():
        qs = _model(app_model).objects.order_by("pk")
        return qs.select_related(*related) if related else qs

    return queryset


# What a vital-sign Observation reads of a reading (resources.session_observation): the
# session only for its patient. Loading whole sessions for each of the five vital sources
# cost the bulk export most of its time on readings.
VITAL_COLUMNS = ("pk", "status", "recorded_at", "at", "session_id", "session__patient_id")


def _vitals(field_name: str):
    def queryset():
        return (
            _model("charting.VitalReading")
            .objects.filter(**{f"{field_name}__isnull": False})
            .select_related("session")
            .only(*VITAL_COLUMNS, field_name)
            .order_by("pk")
        )

    return queryset


def _blood_pressure():
    return (
        _model("charting.VitalReading")
        .objects.filter(Q(systolic_mmhg__isnull=False) | Q(diastolic_mmhg__isnull=False))
        .select_related("session")
        .only(*VITAL_COLUMNS, "systolic_mmhg", "diastolic_mmhg")
        .order_by("pk")
    )


def _scored_responses():
    return (
        _model("outcomes.Response")
        .objects.exclude(status="in-progress")
        .filter(total__isnull=False)
        .select_related("instrument")
        .defer("instrument__definition")
        .order_by("pk")
    )


def _responses():
    # The instrument's definition JSON is parsed once per version (resources.
    # parsed_instrument); decoding it again for every response row cost the bulk export.
    return (
        _model("outcomes.Response")
        .objects.select_related("instrument")
        .defer("instrument__definition")
        .order_by("pk")
    )


def _segments():
    return (
        _model("charting.InfusionEvent")
        .objects.filter(kind__in=("start", "rate_change", "resume"))
        .select_related("session")
        .prefetch_related("session__infusion_events")
        .order_by("pk")
    )


def _plans():
    return (
        _model("plans.TreatmentPlan")
        .objects.filter(signed_at__isnull=False)
        .select_related("protocol")
        .prefetch_related("planned_sessions")
        .order_by("pk")
    )


def _condition_code(system: str | None, code: str) -> Q | None:
    if system not in (None, "", codes.system("icd10cm")):
        return None
    return Q(icd10_code=code)


def _instrument_code(system: str | None, code: str) -> Q | None:
    names = codes.instruments_with_total(system, code)
    return Q(instrument_id__in=names) if names else None


def _questionnaire_lookup(key: str) -> Q:
    # FHIR ids allow no underscore: ``dissociation_nrs`` is served as ``dissociation-nrs``.
    return Q(code__in={key, key.replace("-", "_")})


def _questionnaire_code(system: str | None, code: str) -> Q | None:
    if system not in (None, "", codes.system("loinc")):
        return None
    names = [
        name
        for name, entry in codes.table()["instruments"].items()
        if isinstance(entry, dict) and entry.get("panel", {}).get("code") == code
    ]
    return Q(code__in=names) if names else None


def _vital_codes(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((codes.system("loinc"), codes.vital(name)["code"]) for name in names)


def _session_entry(model: str, to_fhir, prefix: str = "", **extra) -> Source:
    return Source(
        queryset=_plain(model, "session"),
        to_fhir=to_fhir,
        prefix=prefix,
        patient_field="session__patient_id",
        date_field="at",
        updated_field="recorded_at",
        **extra,
    )


def _vital_source(name: str, field_name: str, prefix: str, *extra: str) -> Source:
    return Source(
        queryset=_vitals(field_name),
        to_fhir=resources.single_vital(name, field_name, prefix, *extra),
        prefix=prefix,
        patient_field="session__patient_id",
        date_field="at",
        updated_field="recorded_at",
        codes=_vital_codes(name, *extra),
    )


def build() -> dict[str, ResourceType]:
    types = [
        ResourceType(
            "Patient",
            (Source(_patients, resources.patient, patient_field="pk", updated_field="created_at"),),
            "patient.view",
            "Demographics and the clinic's MRN",
            patient_is_self=True,
        ),
        ResourceType(
            "Practitioner",
            (
                Source(
                    _practitioners,
                    resources.practitioner,
                    patient_field=None,
                    updated_field="date_joined",
                ),
            ),
            "patient.list",
            "The clinic's staff",
        ),
        ResourceType(
            "Condition",
            (
                Source(
                    _plain("patients.Diagnosis"),
                    resources.condition,
                    date_field="onset_on",
                    updated_field="recorded_at",
                    code_filter=_condition_code,
                ),
            ),
            "patient.view_clinical",
            "Diagnoses, coded in ICD-10-CM",
        ),
        ResourceType(
            "AllergyIntolerance",
            (
                Source(
                    _plain("patients.Allergy"),
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
                    _plain("patients.Medication"),
                    resources.medication,
                    prefix="med",
                    date_field="started_on",
                    updated_field="recorded_at",
                ),
                Source(
                    _plain("patients.AntidepressantTrial"),
                    resources.antidepressant_trial,
                    prefix="trial",
                    date_field="started_on",
                    updated_field="recorded_at",
                ),
            ),
            "patient.view_clinical",
            "Current medications (med-) and past antidepressant trials (trial-)",
        ),
        ResourceType(
            "Observation",
            (
                Source(
                    _blood_pressure,
                    resources.blood_pressure,
                    prefix="bp",
                    patient_field="session__patient_id",
                    date_field="at",
                    updated_field="recorded_at",
                    codes=_vital_codes("bp_panel", "systolic", "diastolic"),
                ),
                _vital_source("heart_rate", "heart_rate_bpm", "hr"),
                _vital_source("spo2", "spo2_pct", "spo2", "spo2_pulse_oximetry"),
                _vital_source("respiratory_rate", "resp_rate_per_min", "rr"),
                _vital_source("body_temperature", "temperature_c", "temp"),
                Source(
                    _plain("patients.WeightMeasurement"),
                    resources.weight,
                    prefix="weight",
                    date_field="measured_on",
                    updated_field="recorded_at",
                    codes=_vital_codes("body_weight"),
                ),
                Source(
                    _heights,
                    resources.height,
                    prefix="height",
                    patient_field="pk",
                    updated_field="created_at",
                    codes=_vital_codes("body_height"),
                ),
                Source(
                    _scored_responses,
                    resources.instrument_total,
                    prefix="score",
                    date_field="submitted_at",
                    updated_field="updated_at",
                    code_filter=_instrument_code,
                ),
                _session_entry(
                    "charting.DissociationRating", resources.dissociation, prefix="dissociation"
                ),
            ),
            "patient.view_clinical",
            "Vital signs (LOINC, UCUM), weight, height, instrument totals with item answers, "
            "dissociation ratings",
        ),
        ResourceType(
            "Questionnaire",
            (
                Source(
                    _plain("outcomes.InstrumentDefinition"),
                    resources.questionnaire,
                    patient_field=None,
                    updated_field="loaded_at",
                    code_filter=_questionnaire_code,
                    lookup=_questionnaire_lookup,
                ),
            ),
            "patient.view",
            "Every shipped instrument; id is the instrument code",
        ),
        ResourceType(
            "QuestionnaireResponse",
            (
                Source(
                    _responses,
                    resources.questionnaire_response,
                    date_field="submitted_at",
                    updated_field="updated_at",
                ),
            ),
            "patient.view_clinical",
            "Every answered instrument",
        ),
        ResourceType(
            "Appointment",
            (
                Source(
                    _plain("scheduling.Appointment", "type"),
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
                    _plain("charting.TreatmentSession"),
                    resources.encounter,
                    date_field="opened_at",
                    updated_field="opened_at",
                ),
            ),
            "patient.view_clinical",
            "Each treatment session",
        ),
        ResourceType(
            "MedicationAdministration",
            (
                Source(
                    _segments,
                    resources.infusion_segment,
                    prefix="segment",
                    patient_field="session__patient_id",
                    date_field="at",
                    updated_field="recorded_at",
                ),
                _session_entry("charting.BolusDose", resources.bolus, prefix="bolus"),
                _session_entry("charting.NasalDevice", resources.nasal_device, prefix="device"),
            ),
            "patient.view_clinical",
            "Each infusion segment (segment-), bolus (bolus-) and esketamine device (device-), "
            "with the delivered amount computed from the record",
        ),
        ResourceType(
            "AdverseEvent",
            (_session_entry("charting.AdverseEvent", resources.adverse_event),),
            "patient.view_clinical",
            "Adverse events during treatment sessions",
        ),
        ResourceType(
            "CarePlan",
            (
                Source(
                    _plans, resources.care_plan, date_field="start_date", updated_field="signed_at"
                ),
            ),
            "plan.view_dose",
            "Signed treatment plans with their planned sessions",
        ),
    ]
    if consent_available():
        types.append(
            ResourceType(
                "Consent",
                (
                    Source(
                        _plain("intake.ConsentSignature"),
                        resources.consent,
                        date_field="signed_at",
                        updated_field="signed_at",
                    ),
                ),
                "patient.view_clinical",
                "Signed treatment consents",
            )
        )
    types.append(
        ResourceType(
            "AuditEvent",
            (
                Source(
                    _plain("audit.AuditEvent"),
                    resources.audit_event,
                    date_field="at",
                    updated_field="at",
                ),
            ),
            "audit.view",
            "The audit trail (clinic admin only)",
        )
    )
    return {t.name: t for t in types}


def consent_available() -> bool:
    from django.apps import apps

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


# --- Filters ------------------------------------------------------------------------------


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
