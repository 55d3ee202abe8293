from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ClinicModelAdmin, ReadOnlyAdmin

from .models import (
    AuthorizationEvent,
    ChargeLine,
    Coverage,
    Fee,
    FeeSchedule,
    Payment,
    PriorAuthorization,
    ProviderProfile,
    SessionCharges,
)


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


@admin.register(ChargeLine)
class ChargeLineAdmin(ReadOnlyAdmin):
    """Confirmed lines never change; corrections are reversing lines made in the app."""

    view_permission = "charges.view"
    patient_path = "patient_id"
    list_display = ("patient", "code", "units", "amount", "status")
    list_filter = ("status",)


@admin.register(SessionCharges)
class SessionChargesAdmin(ReadOnlyAdmin):
    view_permission = "charges.view"
    patient_path = "session__patient_id"
    list_display = ("session", "made_at")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    view_permission = "charges.view"
    patient_path = "patient_id"
    list_display = ("patient", "amount", "method", "received_on", "recorded_by")
    list_filter = ("method",)


@admin.register(FeeSchedule)
class FeeScheduleAdmin(ReadOnlyAdmin):
    """A price change is a new version signed in the app, never an edit here."""

    view_permission = "fee_schedule.view"
    list_display = ("version", "esketamine_supply", "created_by", "created_at")


@admin.register(Fee)
class FeeAdmin(ReadOnlyAdmin):
    view_permission = "fee_schedule.view"
    list_display = ("schedule", "code", "amount", "ndc")


@admin.register(ProviderProfile)
class ProviderProfileAdmin(ClinicModelAdmin):
    """Where the clinic admin records each rendering provider's NPI for superbills."""

    view_permission = "fee_schedule.edit"
    list_display = ("user", "npi")
    search_fields = ("user__username", "user__last_name", "npi")
