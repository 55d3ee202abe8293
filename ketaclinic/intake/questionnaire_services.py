"""Writes of the intake questionnaire: the patient submits; a clinician confirms or sets aside.

Nothing the patient reports becomes a clinical fact by itself. ``item_confirm`` creates the
real record row (diagnosis, medication, antidepressant trial, other treatment, emergency
contact) through the patients services, attributed to the confirming clinician, and keeps
"patient-reported intake, confirmed by <name>" as its origin.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import (
    AntidepressantTrial,
    Diagnosis,
    Medication,
    OtherTreatment,
    Patient,
)

from . import questionnaire
from .questionnaire_models import IntakeItem, IntakeSubmission, ItemStatus


class ItemAlreadyReviewed(Exception):
    """The item was confirmed or set aside already (HTTP 409)."""

    def __init__(self, item: IntakeItem):
        self.item = item
        who = item.reviewed_by.get_full_name() if item.reviewed_by else "someone"
        super().__init__(f"This item is already {item.get_status_display().lower()} ({who}).")


def _invalid(request, action: str, patient: Patient, errors: dict[str, str]):
    trail.record(
        action=action,
        request=request,
        patient=patient,
        outcome=Outcome.INVALID,
        detail={"errors": errors},
    )
    raise ValidationError(errors)


def submission_create(*, request, patient: Patient, answers: Any) -> IntakeSubmission:
    """Store the patient's answers and one pending item per thing reported."""
    clean, errors = questionnaire.check(answers)
    if errors:
        _invalid(request, "intake.submit", patient, errors)
    with transaction.atomic():
        superseded = IntakeItem.objects.filter(patient=patient, status=ItemStatus.PENDING).update(
            status=ItemStatus.SUPERSEDED
        )
        submission = IntakeSubmission.objects.create(
            patient=patient, answers=clean, submitted_by=request.user
        )
        IntakeItem.objects.bulk_create(
            IntakeItem(
                submission=submission,
                patient=patient,
                kind=item.kind,
                label=item.label[:400],
                data=item.data,
                finding=item.data.get("finding") or "",
            )
            for item in questionnaire.reported_items(clean)
        )
        trail.record(
            action="intake.submit",
            request=request,
            patient=patient,
            target=submission,
            detail={"items": submission.items.count(), "superseded": superseded},
        )
    return submission


# --- confirming an item into the record -----------------------------------------------------

# The permission confirming each kind needs: the one the record's own form needs.
CONFIRM_PERMISSIONS = {
    "finding": "screening.record",
    "pregnancy": "screening.record",
    "medication": "medication.record",
    "trial": "history.record",
    "treatment": "history.record",
    "substance": "screening.record",
    "contact": "patient.edit_demographics",
    "driver": "screening.record",
}


def confirm_permission(item: IntakeItem) -> str:
    return CONFIRM_PERMISSIONS.get(item.kind, "screening.record")


def _decimal(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = "Enter a number."
        return None
    if not number.is_finite() or number <= 0:
        errors[field] = "Enter a number above zero."
        return None
    return number


def _whole(value: Any, field: str, errors: dict[str, str]) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        errors[field] = "Enter a whole number."
        return None


def _record_entry(item: IntakeItem, values: dict[str, Any], by) -> tuple[Any, str] | None:
    """The unsaved record row the confirmation creates, and its kind for the audit, or None."""
    origin = f"patient-reported intake, confirmed by {by.get_full_name() or by.username}"
    common = {"patient": item.patient}
    errors: dict[str, str] = {}
    if item.kind == "finding" and values.get("icd10_code"):
        entry = Diagnosis(icd10_code=str(values["icd10_code"]).strip(), notes=origin, **common)
        return entry, "diagnosis"
    if item.kind == "medication":
        entry = Medication(
            name=str(values.get("name") or item.data.get("name", ""))[:100],
            drug_class=str(values.get("drug_class") or ""),
            dose=str(values.get("dose") or item.data.get("dose") or "")[:100],
            frequency=str(values.get("frequency") or item.data.get("frequency") or "")[:100],
            **common,
        )
        if not entry.drug_class:
            errors["drug_class"] = "Choose the medicine's class."
        if not entry.dose:
            errors["dose"] = "Enter the dose."
        if errors:
            raise ValidationError(errors)
        return entry, "medication"
    if item.kind == "trial":
        dose = _decimal(values.get("dose_mg_per_day"), "dose_mg_per_day", errors)
        weeks = _whole(values.get("duration_weeks"), "duration_weeks", errors)
        if not values.get("drug_class"):
            errors["drug_class"] = "Choose the antidepressant's class."
        if errors:
            raise ValidationError(errors)
        entry = AntidepressantTrial(
            drug=str(values.get("drug") or item.data.get("drug", ""))[:100],
            drug_class=str(values["drug_class"]),
            dose_mg_per_day=dose,
            duration_weeks=weeks,
            outcome=str(values.get("outcome") or item.data.get("outcome", "")),
            adequate=bool(values.get("adequate")),
            notes=origin,
            **common,
        )
        return entry, "antidepressant_trial"
    if item.kind == "treatment":
        entry = OtherTreatment(
            kind=str(values.get("kind") or item.data.get("kind", "")),
            description=str(item.data.get("description", ""))[:200],
            outcome=str(values.get("outcome") or item.data.get("outcome", "")),
            notes=origin,
            **common,
        )
        return entry, "treatment"
    return None


def item_confirm(*, request, item: IntakeItem, values: dict[str, Any] | None = None) -> IntakeItem:
    """Confirm one reported item into the record, as ``request.user``; one transaction."""
    values = values or {}
    by = request.user
    if item.status != ItemStatus.PENDING:
        raise ItemAlreadyReviewed(item)
    try:
        built = _record_entry(item, values, by)
    except ValidationError as error:
        _invalid(request, "intake.confirm", item.patient, error.message_dict)
    with transaction.atomic():
        locked = IntakeItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.PENDING:
            raise ItemAlreadyReviewed(locked)
        if built is not None:
            entry, kind = built
            patient_services.entry_record(request=request, entry=entry, kind=kind)
            item.record_type, item.record_id = type(entry).__name__, entry.pk
        elif item.kind == "contact":
            patient_services.patient_update(
                request=request,
                patient=item.patient,
                changes={
                    "emergency_contact_name": item.data.get("name", "")[:150],
                    "emergency_contact_phone": item.data.get("phone", "")[:30],
                },
            )
            item.record_type, item.record_id = "Patient", item.patient_id
        item.status = ItemStatus.CONFIRMED
        item.reviewed_by = by
        item.reviewed_at = timezone.now()
        item.review_note = str(values.get("note") or "")[:300]
        item.save(
            update_fields=[
                "status",
                "reviewed_by",
                "reviewed_at",
                "review_note",
                "record_type",
                "record_id",
            ]
        )
        trail.record(
            action="intake.confirm",
            request=request,
            patient_id=item.patient_id,
            target=item,
            detail={
                "kind": item.kind,
                "finding": item.finding,
                "record": [item.record_type, item.record_id],
                "origin": item.origin,
            },
        )
    return item


def item_set_aside(*, request, item: IntakeItem, reason: str) -> IntakeItem:
    """Keep the answer on file but not in the record (wrong, duplicate, not relevant)."""
    reason = (reason or "").strip()
    if not reason:
        _invalid(request, "intake.set_aside", item.patient, {"reason": "Say why it is set aside."})
    if item.status != ItemStatus.PENDING:
        raise ItemAlreadyReviewed(item)
    with transaction.atomic():
        item.status = ItemStatus.SET_ASIDE
        item.reviewed_by = request.user
        item.reviewed_at = timezone.now()
        item.review_note = reason[:300]
        item.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        trail.record(
            action="intake.set_aside",
            request=request,
            patient_id=item.patient_id,
            target=item,
            detail={"kind": item.kind, "reason": item.review_note},
        )
    return item


def may_confirm(user, item: IntakeItem) -> bool:
    return can(user, confirm_permission(item))


def reported_findings(patient: Patient) -> dict[str, IntakeItem]:
    """The newest pending or confirmed patient-reported finding per screening code."""
    found: dict[str, IntakeItem] = {}
    rows = (
        IntakeItem.objects.filter(
            patient=patient, status__in=[ItemStatus.PENDING, ItemStatus.CONFIRMED]
        )
        .findings()
        .select_related("reviewed_by")
        .order_by("id")
    )
    for item in rows:
        found[item.finding] = item
    return found


def latest_submission(patient: Patient) -> IntakeSubmission | None:
    return patient.intake_submissions.first()


def submitted_on(submission: IntakeSubmission | None) -> dt.date | None:
    return timezone.localdate(submission.submitted_at) if submission else None
