"""Deciding on staged items: a clinician accepts (the real record is created through the
patients services, attributed to them, the origin noted) or rejects. Both are audited.

Accepting is implemented for Condition (a diagnosis: ICD-10-CM code and onset). The other
types carry facts the clinic's record needs and the sender rarely codes the same way (a
medication's class, an allergy's severity), so they are reviewed and entered by hand for
now: accepting them answers an error naming what is missing.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.patients import services
from ketaclinic.patients.models import Diagnosis, Patient

from .staging_models import StagedItem, StagedStatus

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


class CannotAccept(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def origin_note(item: StagedItem) -> str:
    staged = item.staged_import
    return (
        f"Imported from {staged.sender} (bundle {staged.bundle_id or 'without id'}, "
        f"received {staged.received_at:%Y-%m-%d %H:%M} UTC, entry {item.entry_index})."
    )


def diagnosis_from(item: StagedItem, patient: Patient) -> Diagnosis:
    resource = item.resource
    codings = (resource.get("code") or {}).get("coding") or []
    code = next((c.get("code") for c in codings if c.get("system") == ICD10CM), None)
    if not code:
        raise CannotAccept("code", "The condition has no ICD-10-CM code; record it by hand.")
    onset = resource.get("onsetDateTime") or ""
    return Diagnosis(
        patient=patient,
        icd10_code=code,
        onset_on=dt.date.fromisoformat(onset[:10]) if len(onset) >= 10 else None,
        notes=origin_note(item),
    )


BUILDERS = {"Condition": ("diagnosis", diagnosis_from)}


def still_pending(item: StagedItem) -> None:
    """A quick refusal; the row update in accept/reject settles races."""
    if item.status != StagedStatus.PENDING:
        raise CannotAccept("status", f"This item was already {item.get_status_display().lower()}.")


def accept(*, request, item: StagedItem, patient: Patient):
    """Create the real record for ``patient`` from ``item``; raises CannotAccept."""
    still_pending(item)
    builder = BUILDERS.get(item.resource_type)
    if builder is None:
        raise CannotAccept(
            "resource_type", f"{item.resource_type} items are entered by hand after review."
        )
    kind, build = builder
    entry = build(item, patient)
    with transaction.atomic():
        claimed = StagedItem.objects.filter(pk=item.pk, status=StagedStatus.PENDING).update(
            status=StagedStatus.ACCEPTED, decided_by=request.user, decided_at=timezone.now()
        )
        if not claimed:
            raise CannotAccept("status", "This item was decided by someone else meanwhile.")
        try:
            services.entry_record(request=request, entry=entry, kind=kind)
        except ValidationError as problem:
            raise CannotAccept("resource", "; ".join(problem.messages)) from None
        trail.record(
            action="fhir.import.accepted",
            request=request,
            patient_id=patient.pk,
            detail={"item": item.pk, "type": item.resource_type, "origin": origin_note(item)},
        )
    item.refresh_from_db()
    return entry


def reject(*, request, item: StagedItem) -> None:
    still_pending(item)
    with transaction.atomic():
        StagedItem.objects.filter(pk=item.pk, status=StagedStatus.PENDING).update(
            status=StagedStatus.REJECTED, decided_by=request.user, decided_at=timezone.now()
        )
        trail.record(
            action="fhir.import.rejected",
            request=request,
            detail={"item": item.pk, "type": item.resource_type},
        )
    item.refresh_from_db()


def create_patient(
    *, request, staged, confirm_duplicate: bool = False, confirmed_ids=None
) -> Patient:
    """A new clinic patient from the bundle's Patient, through the patients service: a
    match by the duplicate check is refused (DuplicatePatient, 409) unless confirmed."""
    sent = staged.patient_resource
    name = (sent.get("name") or [{}])[0]
    born = sent.get("birthDate") or ""
    patient = Patient(
        given_name=" ".join(name.get("given") or []),
        family_name=name.get("family") or "",
        date_of_birth=dt.date.fromisoformat(born) if len(born) == 10 else None,
        sex=sent.get("gender") or "unknown",
    )
    created = services.patient_create(
        request=request,
        patient=patient,
        confirm_duplicate=confirm_duplicate,
        confirmed_ids=confirmed_ids,
    )
    trail.record(
        action="fhir.import.patient_created",
        request=request,
        patient=created,
        detail={"import": staged.pk, "sender": staged.sender, "bundle": staged.bundle_id},
    )
    return created
