"""Deciding on staged items: a clinician accepts (the real record is created through the
patients services, attributed to them, the origin noted) or rejects with a reason. Both are
audited.

Every staged type can be accepted. What the clinic's record needs and a sender rarely codes
the same way is supplied by the accepting clinician (``supplied``): a medication's class
(from the screening-relevant class vocabulary) and an allergy's severity when the bundle has
none. An Observation is accepted only as a body weight (kg) or body height (cm), matched by
its LOINC code; any other observation is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.patients import services, vocabulary
from ketaclinic.patients.models import (
    Allergy,
    AllergySeverity,
    Diagnosis,
    Medication,
    Patient,
    WeightMeasurement,
)

from . import codes
from .staging_models import StagedImport, StagedItem, StagedStatus

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


def day_of(value) -> dt.date | None:
    text = value if isinstance(value, str) else ""
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def concept_text(concept) -> str:
    concept = concept if isinstance(concept, dict) else {}
    codings = concept.get("coding") or [{}]
    return str(concept.get("text") or codings[0].get("display") or "").strip()


def record_entry(kind: str, entry):
    def store(request):
        return services.entry_record(request=request, entry=entry, kind=kind)

    return store


def diagnosis_from(item: StagedItem, patient: Patient, supplied: dict):
    resource = item.resource
    codings = (resource.get("code") or {}).get("coding") or []
    code = next((c.get("code") for c in codings if c.get("system") == ICD10CM), None)
    if not code:
        raise CannotAccept("code", "The condition has no ICD-10-CM code; record it by hand.")
    entry = Diagnosis(
        patient=patient,
        icd10_code=code,
        onset_on=day_of(resource.get("onsetDateTime")),
        notes=origin_note(item),
    )
    return record_entry("diagnosis", entry)


# MedicationStatement.status back to the record's status (the export's map, reversed).
MEDICATION_STATUS = {"active": "active", "stopped": "stopped", "completed": "resolved"}


def medication_from(item: StagedItem, patient: Patient, supplied: dict):
    resource = item.resource
    name = concept_text(resource.get("medicationCodeableConcept"))
    if not name:
        raise CannotAccept("medication", "The statement names no medication.")
    drug_class = str(supplied.get("drug_class") or "").strip()
    if drug_class not in vocabulary.medication_classes():
        raise CannotAccept("drug_class", "Choose the medication's class.")
    dosage = (resource.get("dosage") or [{}])[0]
    dose = str(supplied.get("dose") or dosage.get("text") or "").strip()
    if not dose:
        raise CannotAccept("dose", "The statement has no dose; enter it.")
    period = resource.get("effectivePeriod") or {}
    entry = Medication(
        patient=patient,
        name=name[:100],
        drug_class=drug_class,
        dose=dose[:100],
        frequency=str(supplied.get("frequency") or "").strip()[:100],
        started_on=day_of(period.get("start")),
        stopped_on=day_of(period.get("end")),
        status=MEDICATION_STATUS.get(resource.get("status"), "active"),
    )
    return record_entry("medication", entry)


def allergy_from(item: StagedItem, patient: Patient, supplied: dict):
    resource = item.resource
    substance = concept_text(resource.get("code"))
    if not substance:
        raise CannotAccept("substance", "The allergy names no substance.")
    reaction = (resource.get("reaction") or [{}])[0]
    severity = str(supplied.get("severity") or reaction.get("severity") or "")
    if severity not in AllergySeverity.values:
        raise CannotAccept("severity", "Choose the allergy's severity.")
    described = concept_text((reaction.get("manifestation") or [None])[0])
    clinical = ((resource.get("clinicalStatus") or {}).get("coding") or [{}])[0].get("code")
    entry = Allergy(
        patient=patient,
        substance=substance[:100],
        # The export writes this placeholder for an undescribed reaction: nothing to keep.
        reaction="" if described == "Reaction not described" else described[:200],
        severity=severity,
        status="resolved" if clinical == "resolved" else "active",
    )
    return record_entry("allergy", entry)


def measured(resource: dict, vital: str) -> Decimal:
    """The observation's value in the unit the record keeps, refused in any other unit."""
    wanted = codes.vital(vital)["unit"]
    value = resource.get("valueQuantity") or {}
    unit = value.get("code") or value.get("unit")
    if unit != wanted:
        raise CannotAccept(
            "unit", f"{codes.vital(vital)['display']} must be in {wanted}, not {unit or 'no unit'}."
        )
    try:
        return Decimal(str(value.get("value"))).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise CannotAccept("value", "The observation has no numeric value.") from None


def observation_from(item: StagedItem, patient: Patient, supplied: dict):
    resource = item.resource
    loinc = {
        c.get("code")
        for c in (resource.get("code") or {}).get("coding") or []
        if c.get("system") == codes.system("loinc")
    }
    if codes.vital("body_weight")["code"] in loinc:
        entry = WeightMeasurement(
            patient=patient,
            weight_kg=measured(resource, "body_weight"),
            measured_on=day_of(resource.get("effectiveDateTime")) or timezone.localdate(),
        )
        return record_entry("weight", entry)
    if codes.vital("body_height")["code"] in loinc:
        height = measured(resource, "body_height")

        def store(request):
            services.patient_update(request=request, patient=patient, changes={"height_cm": height})
            return patient

        return store
    raise CannotAccept(
        "code",
        f"Only body weight and height observations can be accepted; "
        f"'{concept_text(resource.get('code')) or 'this observation'}' is entered by hand.",
    )


BUILDERS = {
    "Condition": diagnosis_from,
    "MedicationStatement": medication_from,
    "AllergyIntolerance": allergy_from,
    "Observation": observation_from,
}


def still_pending(item: StagedItem) -> None:
    """A quick refusal; the row update in accept/reject settles races."""
    if item.status != StagedStatus.PENDING:
        raise CannotAccept("status", f"This item was already {item.get_status_display().lower()}.")


def accept(*, request, item: StagedItem, patient: Patient, supplied: dict | None = None):
    """Create the real record for ``patient`` from ``item``, with what the clinician
    ``supplied`` (a medication's class, an allergy's severity); raises CannotAccept."""
    still_pending(item)
    build = BUILDERS.get(item.resource_type)
    if build is None:
        raise CannotAccept(
            "resource_type", f"{item.resource_type} items are entered by hand after review."
        )
    store = build(item, patient, supplied or {})
    with transaction.atomic():
        claimed = StagedItem.objects.filter(pk=item.pk, status=StagedStatus.PENDING).update(
            status=StagedStatus.ACCEPTED, decided_by=request.user, decided_at=timezone.now()
        )
        if not claimed:
            raise CannotAccept("status", "This item was decided by someone else meanwhile.")
        try:
            entry = store(request)
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


def reject(*, request, item: StagedItem, reason: str = "") -> None:
    still_pending(item)
    reason = (reason or "").strip()
    if not reason:
        raise CannotAccept("reason", "Say why the item is rejected.")
    with transaction.atomic():
        claimed = StagedItem.objects.filter(pk=item.pk, status=StagedStatus.PENDING).update(
            status=StagedStatus.REJECTED,
            decided_by=request.user,
            decided_at=timezone.now(),
            reason=reason[:300],
        )
        if not claimed:
            raise CannotAccept("status", "This item was decided by someone else meanwhile.")
        trail.record(
            action="fhir.import.rejected",
            request=request,
            patient_id=item.staged_import.patient_id,
            detail={"item": item.pk, "type": item.resource_type, "reason": reason[:300]},
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
    StagedImport.objects.filter(pk=staged.pk).update(patient=created)
    staged.patient = created
    trail.record(
        action="fhir.import.patient_created",
        request=request,
        patient=created,
        detail={"import": staged.pk, "sender": staged.sender, "bundle": staged.bundle_id},
    )
    return created


def file_under(*, request, staged: StagedImport, patient: Patient) -> None:
    """File the bundle under an existing clinic patient the duplicate check matched."""
    if patient.pk not in staged.candidate_ids:
        raise CannotAccept("patient", "Only a matching patient can receive these records.")
    if staged.patient_id not in (None, patient.pk):
        raise CannotAccept("patient", "These records are already filed under another patient.")
    StagedImport.objects.filter(pk=staged.pk).update(patient=patient)
    staged.patient = patient
    trail.record(
        action="fhir.import.filed",
        request=request,
        patient=patient,
        detail={"import": staged.pk, "sender": staged.sender, "bundle": staged.bundle_id},
    )
