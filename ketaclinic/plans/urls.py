"""Included under ``patients/<int:patient_id>/plans/`` (ketaclinic/urls.py)."""

from django.urls import path

from . import views

app_name = "plans"

urlpatterns = [
    path("new/", views.plan_new, name="new"),
    path("<int:plan_id>/", views.plan_detail, name="detail"),
    path("<int:plan_id>/sign/", views.plan_sign, name="sign"),
    path("<int:plan_id>/dose/", views.plan_amend_dose, name="amend_dose"),
    path("<int:plan_id>/status/", views.plan_status, name="status"),
]
