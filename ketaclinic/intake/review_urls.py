"""Included under ``patients/<int:patient_id>/intake/`` (ketaclinic/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import review_views

app_name = "intake_review"

urlpatterns = [
    path("items/<int:item_id>/confirm/", review_views.item_confirm, name="confirm"),
    path("items/<int:item_id>/set-aside/", review_views.item_set_aside, name="set_aside"),
]
