"""The FHIR app's models in the admin: read-only (exports are made and imports decided in the
audited application, never edited by hand)."""

from __future__ import annotations

from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin

from .bulk_models import ExportJob
from .staging_models import StagedImport, StagedItem


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    view_permission = "fhir.export"
    list_display = ("pk", "requester", "level", "status", "progress")
    list_filter = ("status", "level")


@admin.register(StagedImport)
class StagedImportAdmin(ReadOnlyAdmin):
    view_permission = "fhir.import"
    patient_path = "patient_id"
    list_display = ("pk", "sender", "bundle_id", "received_at", "patient")
    exclude = ("patient_resource",)


@admin.register(StagedItem)
class StagedItemAdmin(ReadOnlyAdmin):
    view_permission = "fhir.import"
    patient_path = "staged_import__patient_id"
    list_display = ("pk", "staged_import", "resource_type", "status", "decided_by")
    list_filter = ("status", "resource_type")
    exclude = ("resource",)
