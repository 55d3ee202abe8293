"""One ``to_fhir(obj) -> dict`` per row kind: the FHIR R4 shape of the clinic's own records.

Each function reads only the row and what the registry's ``select_related``/``prefetch_related``
loaded with it, so serialising a page or a bulk chunk runs no query per object. Codes come from
``data/codes.yaml`` (each with its source); a concept with no verified code is text only.

This module is the face the registry reads; the functions live by subject:
``record_resources`` (the patient record), ``observation_resources`` (the body),
``instrument_resources`` (questionnaires and scores), ``care_resources`` (visits, sessions,
plans, consent, audit) and ``administration_resources`` (what was given), all built with
``datatypes``.
"""

from __future__ import annotations

from .administration_resources import bolus, infusion_segment, nasal_device
from .care_resources import (
    adverse_event,
    appointment,
    audit_event,
    care_plan,
    consent,
    encounter,
)
from .instrument_resources import (
    instrument_total,
    questionnaire,
    questionnaire_response,
)
from .observation_resources import blood_pressure, dissociation, height, single_vital, weight
from .record_resources import (
    allergy,
    antidepressant_trial,
    condition,
    medication,
    patient,
    practitioner,
)

__all__ = [
    "adverse_event",
    "allergy",
    "antidepressant_trial",
    "appointment",
    "audit_event",
    "blood_pressure",
    "bolus",
    "care_plan",
    "condition",
    "consent",
    "dissociation",
    "encounter",
    "height",
    "infusion_segment",
    "instrument_total",
    "medication",
    "nasal_device",
    "patient",
    "practitioner",
    "questionnaire",
    "questionnaire_response",
    "single_vital",
    "weight",
]
