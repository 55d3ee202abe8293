from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cohort.csv", views.cohort_csv, name="cohort_csv"),
]
