"""The patient record in FHIR: Patient, Practitioner and the clinical lists.

Conditions (ICD-10-CM), allergies, current medications and past antidepressant trials
(MedicationStatement), each read from its own row.
"""

from __future__ import annotations

from . import codes
from .datatypes import clean, concept, day, instant, meta, mg, number, patient_ref, ref


def patient(obj) -> dict:
    telecom = []
    if obj.phone:
        telecom.append({"system": "phone", "value": obj.phone})
    if obj.email:
        telecom.append({"system": "email", "value": obj.email})
    names = [{"use": "official", "family": obj.family_name, "given": [obj.given_name]}]
    if obj.preferred_name:
        names.append({"use": "usual", "given": [obj.preferred_name]})
    address = {
        "line": [obj.address] if obj.address else [],
        "city": obj.city,
        "state": obj.region,
        "postalCode": obj.postal_code,
    }
    contact = []
    if obj.emergency_contact_name or obj.emergency_contact_phone:
        contact.append(
            {
                "relationship": [{"text": "Emergency contact"}],
                "name": {"text": obj.emergency_contact_name},
                "telecom": [{"system": "phone", "value": obj.emergency_contact_phone}]
                if obj.emergency_contact_phone
                else [],
            }
        )
    return clean(
        {
            "resourceType": "Patient",
            "id": str(obj.pk),
            "meta": meta(obj.created_at),
            "identifier": [{"use": "usual", "system": codes.system("mrn"), "value": obj.mrn}],
            "active": True,
            "name": names,
            "telecom": telecom,
            "gender": obj.sex,
            "birthDate": day(obj.date_of_birth),
            "address": [address],
            "contact": contact,
        }
    )


def practitioner(user) -> dict:
    return clean(
        {
            "resourceType": "Practitioner",
            "id": str(user.pk),
            "meta": meta(user.date_joined),
            "active": user.is_active,
            "name": [
                {
                    "text": user.display_name,
                    "family": user.last_name,
                    "given": [user.first_name] if user.first_name else [],
                }
            ],
            "qualification": [{"code": {"text": user.credentials}}] if user.credentials else [],
        }
    )


def condition(obj) -> dict:
    in_error = obj.status == "entered-in-error"
    resource = {
        "resourceType": "Condition",
        "id": str(obj.pk),
        "meta": meta(obj.recorded_at),
        "verificationStatus": concept(
            "condition_verification", "entered-in-error" if in_error else "confirmed"
        ),
        "category": [concept("condition_category", "problem-list-item", "Problem List Item")],
        "code": {
            "coding": [
                {"system": codes.system("icd10cm"), "code": obj.icd10_code, "display": obj.display}
            ],
            "text": obj.display,
        },
        "subject": patient_ref(obj),
        "onsetDateTime": day(obj.onset_on),
        "recordedDate": instant(obj.recorded_at),
        "recorder": ref("Practitioner", obj.recorded_by_id),
        "note": [{"text": obj.notes}] if obj.notes else [],
    }
    if not in_error:  # FHIR con-5: no clinical status on an entry in error
        resource["clinicalStatus"] = concept("condition_clinical", obj.status)
    return clean(resource)


def allergy(obj) -> dict:
    in_error = obj.status == "entered-in-error"
    resource = {
        "resourceType": "AllergyIntolerance",
        "id": str(obj.pk),
        "meta": meta(obj.recorded_at),
        "verificationStatus": concept(
            "allergy_verification", "entered-in-error" if in_error else "confirmed"
        ),
        "code": {"text": obj.substance},
        "patient": patient_ref(obj),
        "recordedDate": instant(obj.recorded_at),
        "recorder": ref("Practitioner", obj.recorded_by_id),
        "reaction": [
            {
                "manifestation": [{"text": obj.reaction or "Reaction not described"}],
                "severity": obj.severity,
            }
        ],
    }
    if not in_error:
        resource["clinicalStatus"] = concept(
            "allergy_clinical", "resolved" if obj.status == "resolved" else "active"
        )
    return clean(resource)


MEDICATION_STATUS = {"active": "active", "stopped": "stopped", "resolved": "completed"}


def medication(obj) -> dict:
    return clean(
        {
            "resourceType": "MedicationStatement",
            "id": f"med-{obj.pk}",
            "meta": meta(obj.recorded_at),
            "status": MEDICATION_STATUS.get(obj.status, obj.status),
            "category": {"text": "Current medication"},
            "medicationCodeableConcept": {"text": obj.name},
            "subject": patient_ref(obj),
            "effectivePeriod": {"start": day(obj.started_on), "end": day(obj.stopped_on)},
            "dateAsserted": instant(obj.recorded_at),
            "dosage": [{"text": " ".join(p for p in (obj.dose, obj.frequency) if p)}],
        }
    )


def antidepressant_trial(obj) -> dict:
    ongoing = obj.outcome == "ongoing"
    status = (
        "entered-in-error"
        if obj.status == "entered-in-error"
        else ("active" if ongoing else "completed")
    )
    adequacy = "adequate" if obj.adequate else "not adequate"
    return clean(
        {
            "resourceType": "MedicationStatement",
            "id": f"trial-{obj.pk}",
            "meta": meta(obj.recorded_at),
            "status": status,
            "category": {"text": "Past antidepressant trial"},
            "medicationCodeableConcept": {"text": obj.drug},
            "subject": patient_ref(obj),
            "effectivePeriod": {"start": day(obj.started_on)},
            "dateAsserted": instant(obj.recorded_at),
            "dosage": [
                {
                    "text": f"{number(obj.dose_mg_per_day)} mg/day for {obj.duration_weeks} weeks",
                    "doseAndRate": [
                        {"doseQuantity": mg(obj.dose_mg_per_day)},
                    ],
                }
            ],
            "note": [
                {"text": f"Outcome: {obj.get_outcome_display()}; {adequacy} trial."},
                {"text": obj.notes} if obj.notes else None,
            ],
        }
    )
