from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

from .models import AuthorizationEvent, Coverage, PriorAuthorization


@admin.register(Coverage)
class CoverageAdmin(ReadOnlyAdmin):
    """History: a change is a new row made through the audited application, never an edit."""

    view_permission = "coverage.view"
    patient_path = "patient_id"
    list_display = ("patient", "self_pay", "payer_name", "effective_from", "effective_to")
    list_filter = ("self_pay", "network")
    readonly_fields = ("created_at", "created_by", "closed_at", "closed_by", "replaces")


@admin.register(PriorAuthorization)
class PriorAuthorizationAdmin(ReadOnlyAdmin):
    view_permission = "prior_auth.view"
    patient_path = "plan__patient_id"
    list_display = ("plan", "status", "auth_number", "units", "valid_from", "valid_to")
    list_filter = ("status",)


@admin.register(AuthorizationEvent)
class AuthorizationEventAdmin(ReadOnlyAdmin):
    view_permission = "prior_auth.view"
    patient_path = "authorization__plan__patient_id"
    list_display = ("authorization", "from_status", "to_status", "by", "at")
