"""Included under ``patients/<int:patient_id>/screenings/`` (ketaclinic/urls.py)."""

from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("new/", views.screening_new, name="new"),
    path("<int:screening_id>/", views.screening_detail, name="detail"),
    path("<int:screening_id>/edit/", views.screening_edit, name="edit"),
    path("<int:screening_id>/sign/", views.screening_sign, name="sign"),
    path(
        "<int:screening_id>/entered-in-error/",
        views.screening_mark_in_error,
        name="entered_in_error",
    ),
]
