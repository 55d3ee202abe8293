"""FHIR R4 at /fhir/R4/: the capability statement, read and search."""

from __future__ import annotations

from django.urls import path

from . import bulk, imports, views

app_name = "fhir"

urlpatterns = [
    path("", imports.receive, name="import"),
    path("metadata", views.metadata, name="metadata"),
    # Bulk Data export and Groups (ketaclinic.fhir.bulk), before the generic type routes.
    path("$export", bulk.export_system, name="export"),
    path("Patient/$export", bulk.export_patients, name="export-patients"),
    path("Group/<str:group_id>/$export", bulk.export_group, name="export-group"),
    path("$export-status/<uuid:job_id>", bulk.export_status, name="export-status"),
    path("$export-file/<uuid:job_id>/<str:file_name>", bulk.export_file, name="export-file"),
    path("Group", bulk.group_search, name="group-search"),
    path("Group/<str:group_id>", bulk.group_read, name="group-read"),
    path("<str:resource_type>", views.search, name="search"),
    path("<str:resource_type>/<str:resource_id>", views.read, name="read"),
]
