from __future__ import annotations

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("patients/<int:patient_id>/coverage/add/", views.coverage_add, name="coverage_add"),
]
