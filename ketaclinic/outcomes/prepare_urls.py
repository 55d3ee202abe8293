"""The patient's visit preparation page, included under ``portal/visits/`` (ketaclinic/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import prepare

app_name = "portal_prepare"

urlpatterns = [
    path("", prepare.prepare, name="prepare"),
    path("<int:appointment_id>/", prepare.visit_action, name="visit_action"),
]
