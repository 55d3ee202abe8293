from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ClinicModelAdmin

from .models import AuthorizationEvent, Coverage, PriorAuthorization


@admin.register(Coverage)
class CoverageAdmin(ClinicModelAdmin):
    view_permission = "coverage.view"
    list_display = ("patient", "self_pay", "payer_name", "effective_from", "effective_to")
    list_filter = ("self_pay", "network")
    readonly_fields = ("created_at", "created_by", "closed_at", "closed_by", "replaces")


@admin.register(PriorAuthorization)
class PriorAuthorizationAdmin(ClinicModelAdmin):
    view_permission = "prior_auth.view"
    list_display = ("plan", "status", "auth_number", "units", "valid_from", "valid_to")
    list_filter = ("status",)


@admin.register(AuthorizationEvent)
class AuthorizationEventAdmin(ClinicModelAdmin):
    view_permission = "prior_auth.view"
    list_display = ("authorization", "from_status", "to_status", "by", "at")
