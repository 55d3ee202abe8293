"""FHIR R4 at /fhir/R4/: the capability statement, read and search."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("<str:resource_type>", views.search, name="search"),
    path("<str:resource_type>/<str:resource_id>", views.read, name="read"),
]
