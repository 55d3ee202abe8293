from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

from .models import Screening


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    """Screenings change only through the audited application, never the admin."""

    view_permission = "screening.view"
    patient_path = "patient"

    list_display = ["patient", "route", "indication", "engine_decision", "status", "signed_at"]
    list_filter = ["status", "engine_decision", "route"]
