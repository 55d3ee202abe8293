from django.contrib import admin

from ketaclinic.patients.admin import ReadOnlyAdmin

from .models import PlanDoseChange, PlannedSession, TreatmentPlan


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    """Plans change only through the audited application, never the admin."""

    list_display = ["patient", "protocol", "status", "start_date", "signed_at"]
    list_filter = ["status", "route"]


@admin.register(PlanDoseChange)
class PlanDoseChangeAdmin(ReadOnlyAdmin):
    list_display = ["plan", "from_session", "old_dose_mg", "new_dose_mg", "changed_at"]


@admin.register(PlannedSession)
class PlannedSessionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "date", "phase"]
