"""Included under ``imports/`` (ketaclinic/urls.py): staff review of received records."""

from __future__ import annotations

from django.urls import path

from . import review_views

app_name = "fhir_review"

urlpatterns = [
    path("", review_views.queue, name="queue"),
    path("<int:import_id>/", review_views.review, name="review"),
    path("<int:import_id>/file/", review_views.file_under, name="file"),
    path("<int:import_id>/items/<int:item_id>/accept/", review_views.accept, name="accept"),
    path("<int:import_id>/items/<int:item_id>/reject/", review_views.reject, name="reject"),
]
