from django.urls import path

from . import rems_views as views

app_name = "rems"

urlpatterns = [
    path("", views.index, name="index"),
    path("overdue/", views.overdue, name="overdue"),
    path("certification/", views.certification, name="certification"),
    path("sessions/<int:session_id>/", views.form_page, name="form"),
    path("sessions/<int:session_id>/save/", views.save, name="save"),
    path("sessions/<int:session_id>/submit/", views.submit, name="submit"),
    path("sessions/<int:session_id>/pdf/", views.pdf, name="pdf"),
    path("patients/<int:patient_id>/enrol/", views.enrol, name="enrol"),
]
