"""Writes to the patient record. Each validates, saves and audits in one transaction.

Validation failures raise ``django.core.exceptions.ValidationError`` with a message per
field (forms show them, the API answers 422 with them) and leave an ``invalid`` audit row;
nothing of the rejected write is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .models import ClinicalEntry, EntryStatus, Patient

DEMOGRAPHIC_FIELDS = [
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "height_cm",
]


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def reject(request, action: str, error: ValidationError, patient_id: int | None = None):
    trail.record(
        action=action,
        request=request,
        patient_id=patient_id,
        outcome=Outcome.INVALID,
        detail={"errors": error.message_dict if hasattr(error, "error_dict") else error.messages},
    )
    raise error


def patient_create(*, request, patient: Patient) -> Patient:
    """Store a new patient (an unsaved, filled-in instance) created by ``request.user``."""
    patient.created_by = request.user
    try:
        patient.full_clean(exclude=["mrn"])
    except ValidationError as error:
        reject(request, "patient.create", error)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                patient.save(force_insert=True)
                trail.record(
                    action="patient.create",
                    request=request,
                    patient=patient,
                    target=patient,
                    detail={"fields": snapshot(patient, DEMOGRAPHIC_FIELDS)},
                )
            return patient
        except IntegrityError:
            # Random MRN collided; draw another. Any other integrity error repeats and raises.
            if Patient.objects.filter(mrn=patient.mrn).exists():
                patient.mrn = type(patient)._meta.get_field("mrn").default()
                patient.pk = None
                continue
            raise
    raise RuntimeError("could not allocate a unique MRN")


def patient_update(*, request, patient: Patient, changes: dict[str, Any]) -> list[str]:
    """Apply demographic ``changes``; the audit row keeps every old and new value."""
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        reject(
            request,
            "patient.change",
            ValidationError({name: "This field cannot be changed here." for name in unknown}),
            patient.pk,
        )
    before = snapshot(patient, DEMOGRAPHIC_FIELDS)
    for name, value in changes.items():
        setattr(patient, name, value)
    try:
        patient.full_clean(exclude=["mrn"])
    except ValidationError as error:
        patient.refresh_from_db()
        reject(request, "patient.change", error, patient.pk)
    changed = {
        name: [before[name], getattr(patient, name)]
        for name in DEMOGRAPHIC_FIELDS
        if before[name] != getattr(patient, name)
    }
    if not changed:
        return []
    with transaction.atomic():
        patient.save(update_fields=list(changed))
        trail.record(
            action="patient.change",
            request=request,
            patient=patient,
            target=patient,
            detail={"changes": changed},
        )
    return list(changed)


def entry_record(*, request, entry: ClinicalEntry, kind: str) -> ClinicalEntry:
    """Store a new clinical entry (weight, diagnosis, medication...) for its patient."""
    entry.recorded_by = request.user
    try:
        entry.full_clean()
    except ValidationError as error:
        reject(request, f"{kind}.create", error, entry.patient_id)
    with transaction.atomic():
        entry.save(force_insert=True)
        trail.record(
            action=f"{kind}.create",
            request=request,
            patient_id=entry.patient_id,
            target=entry,
            detail={"entry": str(entry)},
        )
    return entry


def entry_mark_in_error(*, request, entry: ClinicalEntry, kind: str, reason: str) -> None:
    """Strike an entry out as entered-in-error; it stays on the record, marked."""
    reason = reason.strip()
    if not reason:
        reject(
            request,
            f"{kind}.entered_in_error",
            ValidationError({"reason": "Say why the entry is wrong."}),
            entry.patient_id,
        )
    if entry.in_error:
        return
    previous = entry.status
    with transaction.atomic():
        entry.status = EntryStatus.ENTERED_IN_ERROR
        entry.error_reason = reason[:300]
        entry.save(update_fields=["status", "error_reason"])
        trail.record(
            action=f"{kind}.entered_in_error",
            request=request,
            patient_id=entry.patient_id,
            target=entry,
            detail={"status": [previous, entry.status], "reason": entry.error_reason},
        )
