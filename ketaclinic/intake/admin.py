from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ClinicModelAdmin

from .models import ConsultationRequest, TriageEvent


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
