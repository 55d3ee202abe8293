"""Staff review of records received from another EHR (``POST /fhir/R4/``).

A clinic-wide list of bundles awaiting review, one page per bundle (its origin, the patient
as sent, the matching clinic patients), and the patient chart's "Imported records" tab. A
clinician files the bundle under a patient (a confirmed match, or a new patient created from
it), then accepts each item (supplying what the record needs that the sender did not code)
or rejects it with a reason. Clinicians only (``fhir.import``); every read and decision is
audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import Refusal, refusal_reason
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.patients import vocabulary
from ketaclinic.patients.access import refuse
from ketaclinic.patients.models import AllergySeverity, Patient
from ketaclinic.patients.services import DuplicatePatient

from . import staging
from .staging_models import StagedImport, StagedItem, StagedStatus

PERMISSION = "fhir.import"
TAB = "imports"


def allowed(request) -> None:
    if not can(request.user, PERMISSION):
        refuse(request, None, PERMISSION, refusal_reason(request.user, PERMISSION))
        raise Refusal(request.user, PERMISSION)


def staged_or_404(request, import_id: int) -> StagedImport:
    allowed(request)
    staged = StagedImport.objects.select_related("patient").filter(pk=import_id).first()
    if staged is None:
        raise Http404("No such import.")
    return staged


def describe(item: StagedItem) -> str:
    """What the sender said, in words (the clinician decides from this)."""
    r = item.resource
    if item.resource_type == "Condition":
        codings = (r.get("code") or {}).get("coding") or [{}]
        text = staging.concept_text(r.get("code"))
        return f"Diagnosis {codings[0].get('code') or ''} {text}".strip()
    if item.resource_type == "MedicationStatement":
        dosage = ((r.get("dosage") or [{}])[0]).get("text") or ""
        return f"Medication {staging.concept_text(r.get('medicationCodeableConcept'))} {dosage}".strip()
    if item.resource_type == "AllergyIntolerance":
        reaction = (r.get("reaction") or [{}])[0]
        severity = reaction.get("severity") or "severity not given"
        return f"Allergy to {staging.concept_text(r.get('code'))} ({severity})"
    value = r.get("valueQuantity") or {}
    shown = f"{value.get('value')} {value.get('unit') or value.get('code') or ''}" if value else ""
    return f"{staging.concept_text(r.get('code')) or 'Observation'} {shown}".strip()


def review_items(staged: StagedImport) -> list[StagedItem]:
    items = list(staged.items.select_related("decided_by"))
    for item in items:
        item.summary = describe(item)
        reaction = (item.resource.get("reaction") or [{}])[0]
        item.needs_severity = item.resource_type == "AllergyIntolerance" and not reaction.get(
            "severity"
        )
    return items


def sent_name(staged: StagedImport) -> str:
    name = (staged.patient_resource.get("name") or [{}])[0]
    return " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()


def review_context(staged: StagedImport) -> dict:
    return {
        "staged": staged,
        "sent_name": sent_name(staged),
        "sent_birth_date": staged.patient_resource.get("birthDate") or "not given",
        "candidates": Patient.objects.filter(pk__in=staged.candidate_ids).order_by("pk"),
        "items": review_items(staged),
        "medication_classes": [
            (code, row["display"]) for code, row in vocabulary.medication_classes().items()
        ],
        "severities": AllergySeverity.choices,
    }


@login_required
def queue(request):
    """Every bundle with items awaiting review, oldest first."""
    allowed(request)
    waiting = list(
        StagedImport.objects.filter(items__status=StagedStatus.PENDING)
        .distinct()
        .select_related("patient")
        .order_by("received_at")
    )
    for staged in waiting:
        staged.sent_name = sent_name(staged)
        staged.pending = staged.items.filter(status=StagedStatus.PENDING).count()
    trail.record(
        action="fhir.import.queue_viewed",
        request=request,
        detail={"imports": [s.pk for s in waiting]},
    )
    return render(request, "fhir/import_queue.html", {"waiting": waiting})


def show(request, staged: StagedImport, errors: dict | None = None, status: int = 200):
    context = review_context(staged) | {"errors": errors or {}}
    return render(request, "fhir/import_review.html", context, status=status)


@login_required
def review(request, import_id: int):
    staged = staged_or_404(request, import_id)
    trail.record(
        action="fhir.import.viewed",
        request=request,
        patient_id=staged.patient_id,
        detail={"import": staged.pk, "sender": staged.sender, "bundle": staged.bundle_id},
    )
    return show(request, staged)


def back(staged: StagedImport):
    return redirect(reverse("fhir_review:review", kwargs={"import_id": staged.pk}))


def refused(request, staged: StagedImport, problem: staging.CannotAccept):
    # A decision someone else made meanwhile is a conflict; anything else is bad input.
    status = 409 if problem.field == "status" else 422
    return show(request, staged, {problem.field: problem.message}, status)


@login_required
@require_POST
def file_under(request, import_id: int):
    """File the bundle under a matching clinic patient, or a new patient made from it."""
    staged = staged_or_404(request, import_id)
    chosen = request.POST.get("patient", "")
    if staged.patient_id:
        return refused(
            request, staged, staging.CannotAccept("status", "Already filed under a patient.")
        )
    try:
        if chosen == "new":
            staging.create_patient(
                request=request,
                staged=staged,
                confirm_duplicate=bool(staged.candidate_ids),
                confirmed_ids=staged.candidate_ids,
            )
        else:
            patient = Patient.objects.filter(pk=int(chosen) if chosen.isdigit() else 0).first()
            if patient is None:
                raise staging.CannotAccept("patient", "Choose a matching patient or a new one.")
            staging.file_under(request=request, staged=staged, patient=patient)
    except staging.CannotAccept as problem:
        return refused(request, staged, problem)
    except DuplicatePatient:
        return refused(
            request, staged, staging.CannotAccept("patient", "A matching patient exists.")
        )
    messages.success(request, f"Filed under {staged.patient}.")
    return back(staged)


def item_of(staged: StagedImport, item_id: int) -> StagedItem:
    item = staged.items.filter(pk=item_id).first()
    if item is None:
        raise Http404("No such item.")
    return item


@login_required
@require_POST
def accept(request, import_id: int, item_id: int):
    staged = staged_or_404(request, import_id)
    item = item_of(staged, item_id)
    if staged.patient is None:
        return refused(
            request,
            staged,
            staging.CannotAccept("patient", "File these records under a patient first."),
        )
    supplied = {
        name: request.POST.get(name, "").strip()
        for name in ("drug_class", "severity", "dose", "frequency")
        if request.POST.get(name, "").strip()
    }
    try:
        staging.accept(request=request, item=item, patient=staged.patient, supplied=supplied)
    except staging.CannotAccept as problem:
        return refused(request, staged, problem)
    messages.success(request, f"Accepted into the record: {describe(item)}")
    return back(staged)


@login_required
@require_POST
def reject(request, import_id: int, item_id: int):
    staged = staged_or_404(request, import_id)
    item = item_of(staged, item_id)
    try:
        staging.reject(request=request, item=item, reason=request.POST.get("reason", ""))
    except staging.CannotAccept as problem:
        return refused(request, staged, problem)
    messages.success(request, f"Rejected: {describe(item)}")
    return back(staged)


def imports_tab(request, patient: Patient) -> dict:
    """The chart tab: bundles filed under this patient, and unfiled ones that match them."""
    filed = list(StagedImport.objects.filter(patient=patient).order_by("-received_at"))
    unfiled = [
        s
        for s in StagedImport.objects.filter(patient__isnull=True).order_by("-received_at")
        if patient.pk in s.candidate_ids
    ]
    for staged in filed + unfiled:
        staged.summaries = [(describe(i), i) for i in staged.items.all()]
    return {"fhir_filed": filed, "fhir_unfiled": unfiled}
