from django.contrib import admin

from ketaclinic.patients.admin import ReadOnlyAdmin

from .models import Screening


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    """Screenings change only through the audited application, never the admin."""

    list_display = ["patient", "route", "indication", "engine_decision", "status", "signed_at"]
    list_filter = ["status", "engine_decision", "route"]
