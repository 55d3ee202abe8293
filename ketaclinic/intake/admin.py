from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ClinicModelAdmin, ReadOnlyAdmin

from .models import (
    ConsentSignature,
    ConsultationRequest,
    IntakeItem,
    IntakeSubmission,
    SubmissionAttempt,
    TriageEvent,
)


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(ClinicModelAdmin):
    view_permission = "consultation_request.triage"
    patient_path = "patient_id"  # set once the request is converted
    list_display = ("reference", "family_name", "given_name", "status", "urgent", "created_at")
    list_filter = ("status", "urgent")
    search_fields = ("reference", "family_name", "given_name")
    readonly_fields = ("reference", "fingerprint", "created_at", "updated_at")


@admin.register(TriageEvent)
class TriageEventAdmin(ClinicModelAdmin):
    view_permission = "consultation_request.triage"
    patient_path = "request__patient_id"
    list_display = ("request", "kind", "from_status", "to_status", "by", "at")


# Intake and consent change only through the audited portal and review pages (a signature's
# text hash, a patient's answers, a clinician's confirmation): the admin browses them.


@admin.register(IntakeSubmission)
class IntakeSubmissionAdmin(ReadOnlyAdmin):
    view_permission = "intake.review"
    patient_path = "patient_id"
    list_display = ("patient", "submitted_at", "submitted_by")
    date_hierarchy = "submitted_at"


@admin.register(IntakeItem)
class IntakeItemAdmin(ReadOnlyAdmin):
    view_permission = "intake.review"
    patient_path = "patient_id"
    list_display = ("patient", "kind", "label", "finding", "status", "reviewed_by", "reviewed_at")
    list_filter = ("status", "kind")


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(ReadOnlyAdmin):
    view_permission = "intake.review"
    patient_path = "patient_id"
    list_display = (
        "patient",
        "document_code",
        "document_version",
        "signed_at",
        "via",
        "withdrawn_at",
    )
    list_filter = ("document_code", "via")


@admin.register(SubmissionAttempt)
class SubmissionAttemptAdmin(ReadOnlyAdmin):
    """Rate-limit rows: a keyed hash of the sender and a time, no patient."""

    view_permission = "consultation_request.triage"
    list_display = ("client_key", "at")
