from __future__ import annotations

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("patients/<int:patient_id>/coverage/add/", views.coverage_add, name="coverage_add"),
    path(
        "patients/<int:patient_id>/plans/<int:plan_id>/authorization/",
        views.authorization,
        name="authorization",
    ),
    path(
        "patients/<int:patient_id>/plans/<int:plan_id>/packet/",
        views.packet_page,
        name="packet",
    ),
    path(
        "patients/<int:patient_id>/plans/<int:plan_id>/packet.pdf",
        views.packet_pdf,
        name="packet_pdf",
    ),
]
