"""Writes to the patient record. Each validates, saves and audits in one transaction.

Validation failures raise ``django.core.exceptions.ValidationError`` with a message per
field (forms show them, the API answers 422 with them) and leave an ``invalid`` audit row;
nothing of the rejected write is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.audit.trail import reject

from . import duplicates
from .access import may_see
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


NUL_MESSAGE = "may not contain NUL characters (\\x00)"
NULL_MESSAGE = "may not be null; send an empty string to clear it"


def input_problems(values: dict[str, Any]) -> dict[str, str]:
    """Values no record can hold: a null in a field that cannot be null, a NUL character.

    Both would reach the database as a 500 (PostgreSQL refuses NUL in text; a blank-allowed
    field skips validation for None), so they are refused by field first.
    """
    problems: dict[str, str] = {}
    for name, value in values.items():
        if value is None and not Patient._meta.get_field(name).null:
            problems[name] = NULL_MESSAGE
        elif isinstance(value, str) and "\x00" in value:
            problems[name] = NUL_MESSAGE
    return problems


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


class DuplicatePatient(Exception):
    """The new patient matches existing records by name and date of birth (HTTP 409).

    ``candidates`` are the matching records the user may see; creating anyway needs an
    explicit confirmation.
    """

    def __init__(self, candidates: list[Patient]) -> None:
        self.candidates = candidates
        self.message = (
            f"{len(candidates)} patient record{'s' if len(candidates) != 1 else ''} already "
            "name this person (same family name, given name and date of birth, ignoring case "
            "and accents). Open the existing record, or confirm that this is a different "
            "person to create a new one."
        )
        super().__init__(self.message)


def duplicate_candidates(patient: Patient, may_see: Callable[[Patient], bool]) -> list[Patient]:
    """Existing records naming the same person as ``patient`` that the user may see."""
    if patient.date_of_birth is None:
        return []
    born_that_day = (
        Patient.objects.filter(date_of_birth=patient.date_of_birth)
        .exclude(pk=patient.pk or 0)
        .order_by("pk")
        .only("id", "mrn", "given_name", "family_name", "date_of_birth", "user_id")
    )
    by_id = {known.pk: known for known in born_that_day}
    new = duplicates.Identity(patient.given_name, patient.family_name, patient.date_of_birth)
    ids = duplicates.matching(
        new,
        (
            (pk, duplicates.Identity(k.given_name, k.family_name, k.date_of_birth))
            for pk, k in by_id.items()
        ),
    )
    return [by_id[pk] for pk in ids if may_see(by_id[pk])]


def refuse_duplicate(request, patient: Patient, candidates: list[Patient]) -> DuplicatePatient:
    """Audit the refusal (and each candidate shown as a read of that record)."""
    ids = [c.pk for c in candidates]
    trail.record(
        action="patient.create",
        request=request,
        outcome=Outcome.REFUSED,
        detail={"reason": "possible duplicate", "candidates": ids},
    )
    for candidate in candidates:
        trail.record(
            action="patient.view",
            request=request,
            patient=candidate,
            detail={"section": "duplicate-check"},
        )
    return DuplicatePatient(candidates)


def patient_create(
    *,
    request,
    patient: Patient,
    confirm_duplicate: bool = False,
    confirmed_ids: Collection[int] | None = None,
) -> Patient:
    """Store a new patient (an unsaved, filled-in instance) created by ``request.user``.

    A patient who matches existing records by name and date of birth (``duplicates``) is
    refused with ``DuplicatePatient`` (409) unless ``confirm_duplicate``; with
    ``confirmed_ids`` (the records the page showed) a match beyond those is still refused.
    """
    patient.created_by = request.user
    if problems := input_problems(snapshot(patient, DEMOGRAPHIC_FIELDS)):
        reject(request, "patient.create", ValidationError(problems))
    try:
        patient.full_clean(exclude=["mrn"])
    except ValidationError as error:
        reject(request, "patient.create", error)
    candidates = duplicate_candidates(patient, lambda known: may_see(request.user, known))
    unconfirmed = [
        c
        for c in candidates
        if not confirm_duplicate or (confirmed_ids is not None and c.pk not in confirmed_ids)
    ]
    if unconfirmed:
        raise refuse_duplicate(request, patient, candidates)
    created_detail: dict[str, Any] = {}
    if candidates:
        created_detail["confirmed_not_duplicate_of"] = [c.pk for c in candidates]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                patient.save(force_insert=True)
                trail.record(
                    action="patient.create",
                    request=request,
                    patient=patient,
                    target=patient,
                    detail={"fields": snapshot(patient, DEMOGRAPHIC_FIELDS), **created_detail},
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
    if problems := input_problems(changes):
        reject(request, "patient.change", ValidationError(problems), patient.pk)
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
