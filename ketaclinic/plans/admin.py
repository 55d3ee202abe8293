from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

from .models import PlanDoseChange, PlannedSession, TreatmentPlan


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    """Plans change only through the audited application, never the admin.

    The form shows doses, so the admin follows ``plan.view_dose`` (clinicians), not
    ``plan.view`` (front desk books courses without reading doses).
    """

    view_permission = "plan.view_dose"
    patient_path = "patient"

    list_display = ["patient", "protocol", "status", "start_date", "signed_at"]
    list_filter = ["status", "route"]


@admin.register(PlanDoseChange)
class PlanDoseChangeAdmin(ReadOnlyAdmin):
    view_permission = "plan.view_dose"
    patient_path = "plan__patient"
    list_display = ["plan", "from_session", "old_dose_mg", "new_dose_mg", "changed_at"]


@admin.register(PlannedSession)
class PlannedSessionAdmin(ReadOnlyAdmin):
    view_permission = "plan.view_dose"
    patient_path = "plan__patient"
    list_display = ["plan", "number", "date", "phase"]
