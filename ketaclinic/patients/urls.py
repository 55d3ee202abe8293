from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", views.patient_chart, name="chart"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/<slug:kind>/add/", views.entry_add, name="entry_add"),
    path(
        "<int:patient_id>/<slug:kind>/<int:entry_id>/entered-in-error/",
        views.entry_mark_in_error,
        name="entry_error",
    ),
    path("<int:patient_id>/tab/<slug:tab>/", views.patient_chart, name="chart_tab"),
]
