"""Charges and superbill pages, under /billing/ (namespace ``charges``)."""

from __future__ import annotations

from django.urls import path

from . import charges_views

app_name = "charges"

urlpatterns = [
    path(
        "sessions/<int:session_id>/superbill/",
        charges_views.session_superbill,
        name="session_superbill",
    ),
    path(
        "sessions/<int:session_id>/superbill.pdf",
        charges_views.session_superbill_pdf,
        name="session_superbill_pdf",
    ),
    path(
        "sessions/<int:session_id>/charges/confirm/",
        charges_views.session_confirm,
        name="session_confirm",
    ),
    path(
        "patients/<int:patient_id>/superbill/",
        charges_views.patient_superbill,
        name="patient_superbill",
    ),
    path(
        "patients/<int:patient_id>/superbill.pdf",
        charges_views.patient_superbill_pdf,
        name="patient_superbill_pdf",
    ),
    path("charges/export.csv", charges_views.charges_export, name="charges_export"),
]
