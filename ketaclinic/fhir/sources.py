"""Where each FHIR resource's rows come from: the querysets and code filters of the sources.

Each queryset loads with its rows what the source's ``to_fhir`` reads, so serialising a page
or a bulk chunk runs no query per object.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q

from ketaclinic.accounts.roles import Role

from . import codes, resources
from .resource_type import Source

# Models are looked up when a queryset is built, not imported: the registry is imported by
# code that runs before the app registry is ready (tests, the bulk worker).


def model(app_model: str):
    return apps.get_model(app_model)


def patients():
    return model("patients.Patient").objects.order_by("pk")


def heights():
    return patients().filter(height_cm__isnull=False)


def practitioners():
    return model("accounts.User").objects.exclude(role=Role.PATIENT).order_by("pk")


def plain(app_model: str, *related: str):
    def queryset():
        qs = model(app_model).objects.order_by("pk")
        return qs.select_related(*related) if related else qs

    return queryset


# What a vital-sign Observation reads of a reading (observation_resources.
# session_observation): the session only for its patient. Loading whole sessions for each
# of the five vital sources cost the bulk export most of its time on readings.
VITAL_COLUMNS = ("pk", "status", "recorded_at", "at", "session_id", "session__patient_id")


def vitals(field_name: str):
    def queryset():
        return (
            model("charting.VitalReading")
            .objects.filter(**{f"{field_name}__isnull": False})
            .select_related("session")
            .only(*VITAL_COLUMNS, field_name)
            .order_by("pk")
        )

    return queryset


def blood_pressure():
    return (
        model("charting.VitalReading")
        .objects.filter(Q(systolic_mmhg__isnull=False) | Q(diastolic_mmhg__isnull=False))
        .select_related("session")
        .only(*VITAL_COLUMNS, "systolic_mmhg", "diastolic_mmhg")
        .order_by("pk")
    )


def scored_responses():
    return (
        model("outcomes.Response")
        .objects.exclude(status="in-progress")
        .filter(total__isnull=False)
        .select_related("instrument")
        .defer("instrument__definition")
        .order_by("pk")
    )


def responses():
    # The instrument's definition JSON is parsed once per version (instrument_resources.
    # parsed_instrument); decoding it again for every response row cost the bulk export.
    return (
        model("outcomes.Response")
        .objects.select_related("instrument")
        .defer("instrument__definition")
        .order_by("pk")
    )


def segments():
    return (
        model("charting.InfusionEvent")
        .objects.filter(kind__in=("start", "rate_change", "resume"))
        .select_related("session")
        .prefetch_related("session__infusion_events")
        .order_by("pk")
    )


def plans():
    return (
        model("plans.TreatmentPlan")
        .objects.filter(signed_at__isnull=False)
        .select_related("protocol")
        .prefetch_related("planned_sessions")
        .order_by("pk")
    )


def condition_code(system: str | None, code: str) -> Q | None:
    if system not in (None, "", codes.system("icd10cm")):
        return None
    return Q(icd10_code=code)


def instrument_code(system: str | None, code: str) -> Q | None:
    names = codes.instruments_with_total(system, code)
    return Q(instrument_id__in=names) if names else None


def questionnaire_lookup(key: str) -> Q:
    # FHIR ids allow no underscore: ``dissociation_nrs`` is served as ``dissociation-nrs``.
    return Q(code__in={key, key.replace("-", "_")})


def questionnaire_code(system: str | None, code: str) -> Q | None:
    if system not in (None, "", codes.system("loinc")):
        return None
    names = [
        name
        for name, entry in codes.table()["instruments"].items()
        if isinstance(entry, dict) and entry.get("panel", {}).get("code") == code
    ]
    return Q(code__in=names) if names else None


def vital_codes(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((codes.system("loinc"), codes.vital(name)["code"]) for name in names)


def session_entry(app_model: str, to_fhir, prefix: str = "", **extra) -> Source:
    """A source of rows charted during a treatment session (dated by their ``at``)."""
    return Source(
        queryset=plain(app_model, "session"),
        to_fhir=to_fhir,
        prefix=prefix,
        patient_field="session__patient_id",
        date_field="at",
        updated_field="recorded_at",
        **extra,
    )


def vital_source(name: str, field_name: str, prefix: str, *extra: str) -> Source:
    return Source(
        queryset=vitals(field_name),
        to_fhir=resources.single_vital(name, field_name, prefix, *extra),
        prefix=prefix,
        patient_field="session__patient_id",
        date_field="at",
        updated_field="recorded_at",
        codes=vital_codes(name, *extra),
    )
