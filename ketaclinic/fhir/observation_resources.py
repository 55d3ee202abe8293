"""Observations of the body: vital signs (LOINC, UCUM), weight, height, dissociation ratings."""

from __future__ import annotations

from ketaclinic.charting.models import RecordStatus

from . import codes
from .datatypes import clean, concept, day, instant, meta, patient_ref, quantity, ref


def vitals_category() -> list[dict]:
    entry = codes.table()["vital_signs"]["category"]
    return [concept("observation_category", entry["code"], entry["display"])]


def survey_category() -> list[dict]:
    entry = codes.table()["instruments"]["category"]
    return [concept("observation_category", entry["code"], entry["display"])]


def observation_status(obj) -> str:
    return "entered-in-error" if obj.status == RecordStatus.ENTERED_IN_ERROR else "final"


def session_observation(obj, prefix: str, code: dict) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"{prefix}-{obj.pk}",
        "meta": meta(obj.recorded_at),
        "status": observation_status(obj),
        "category": vitals_category(),
        "code": code,
        "subject": ref("Patient", obj.session.patient_id),
        "encounter": ref("Encounter", obj.session_id),
        "effectiveDateTime": instant(obj.at),
    }


def vital_code(name: str, *extra: str) -> dict:
    entry = codes.vital(name)
    coding = [codes.loinc(entry)] + [codes.loinc(codes.vital(e)) for e in extra]
    return {"coding": coding, "text": entry["display"]}


def single_vital(name: str, field: str, prefix: str, *extra: str):
    def to_fhir(obj) -> dict:
        resource = session_observation(obj, prefix, vital_code(name, *extra))
        resource["valueQuantity"] = quantity(getattr(obj, field), codes.vital(name))
        return clean(resource)

    to_fhir.__name__ = f"{prefix}_observation"
    return to_fhir


def blood_pressure(obj) -> dict:
    resource = session_observation(obj, "bp", vital_code("bp_panel"))
    resource["component"] = [
        {"code": vital_code(part), "valueQuantity": quantity(value, codes.vital(part))}
        for part, value in (("systolic", obj.systolic_mmhg), ("diastolic", obj.diastolic_mmhg))
        if value is not None
    ]
    return clean(resource)


def weight(obj) -> dict:
    return clean(
        {
            "resourceType": "Observation",
            "id": f"weight-{obj.pk}",
            "meta": meta(obj.recorded_at),
            "status": "entered-in-error" if obj.status == "entered-in-error" else "final",
            "category": vitals_category(),
            "code": vital_code("body_weight"),
            "subject": patient_ref(obj),
            "effectiveDateTime": day(obj.measured_on),
            "valueQuantity": quantity(obj.weight_kg, codes.vital("body_weight")),
        }
    )


def height(obj) -> dict:
    """The patient's recorded height (kept on the patient record, so no date of measurement)."""
    return clean(
        {
            "resourceType": "Observation",
            "id": f"height-{obj.pk}",
            "meta": meta(obj.created_at),
            "status": "final",
            "category": vitals_category(),
            "code": vital_code("body_height"),
            "subject": ref("Patient", obj.pk),
            "valueQuantity": quantity(obj.height_cm, codes.vital("body_height")),
        }
    )


def dissociation(obj) -> dict:
    # No verified code for a 0-10 dissociation rating: text only (codes.yaml).
    items = obj.cadss_items if isinstance(obj.cadss_items, dict) else {}
    resource = session_observation(
        obj, "dissociation", {"text": "Dissociation rating (0-10 scale)"}
    )
    resource["category"] = survey_category()
    resource["valueInteger"] = obj.score
    resource["component"] = [
        {"code": {"text": f"CADSS item {key}"}, "valueInteger": value}
        for key, value in sorted(items.items())
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    return clean(resource)
