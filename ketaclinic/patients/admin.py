"""The patient record in the admin: read-only, shown only to roles that see it in the app.

Demographics follow ``patient.view``; clinical entries (weights, diagnoses, treatment history,
medications, allergies) follow ``patient.view_clinical``, so front desk and clinic admins do
not read them here either. Every page shown is audited (``accounts.admin.ClinicModelAdmin``).
"""

from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

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

__all__ = ["ReadOnlyAdmin"]  # kept importable from here for the apps that used it


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    view_permission = "patient.view"
    patient_path = "pk"
    list_display = ["mrn", "family_name", "given_name", "date_of_birth", "sex"]
    search_fields = ["mrn", "family_name", "given_name", "email"]


class EntryAdmin(ReadOnlyAdmin):
    view_permission = "patient.view_clinical"
    patient_path = "patient"
    list_display = ["patient", "__str__", "status", "recorded_at"]
    list_filter = ["status"]


class CareTeamAdmin(EntryAdmin):
    """Who treats the patient: demographic-level, as on the app's care-team panel."""

    view_permission = "patient.view"


for model in (
    WeightMeasurement,
    Diagnosis,
    AntidepressantTrial,
    OtherTreatment,
    Medication,
    Allergy,
):
    admin.site.register(model, EntryAdmin)
admin.site.register(CareTeamMember, CareTeamAdmin)
