from django.contrib import admin

from .models import (
    Allergy,
    AntidepressantTrial,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    Patient,
    WeightMeasurement,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Clinical records change only through the audited application, never the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["mrn", "family_name", "given_name", "date_of_birth", "sex"]
    search_fields = ["mrn", "family_name", "given_name", "email"]


class EntryAdmin(ReadOnlyAdmin):
    list_display = ["patient", "__str__", "status", "recorded_at"]
    list_filter = ["status"]


for model in (
    WeightMeasurement,
    Diagnosis,
    AntidepressantTrial,
    OtherTreatment,
    Medication,
    Allergy,
    CareTeamMember,
):
    admin.site.register(model, EntryAdmin)
