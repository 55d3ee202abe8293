"""Included under ``patients/<int:patient_id>/resend/`` (ketaclinic/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import resend

app_name = "resend"

urlpatterns = [
    path("visits/<int:appointment_id>/", resend.resend_reminder, name="reminder"),
    path("questionnaire-link/", resend.resend_questionnaire_link, name="questionnaire_link"),
]
