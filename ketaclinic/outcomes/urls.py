"""Staff pages at /outcomes/ and the patient's questionnaire pages at /portal/questionnaires/."""

from django.urls import path

from . import portal, views

app_name = "outcomes"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("safety-tasks/<int:task_id>/", views.safety_task, name="safety_task"),
    path("patients/<int:patient_id>/enter/", views.enter, name="enter"),
    path(
        "patients/<int:patient_id>/responses/<int:response_id>/entered-in-error/",
        views.response_error,
        name="response_error",
    ),
    path("patients/<int:patient_id>/link/", views.link_create, name="link_create"),
    path("instruments/", views.instruments, name="instruments"),
    path("instruments/<slug:code>/status/", views.instrument_status, name="instrument_status"),
]

portal_patterns = (
    [
        path("", portal.home, name="home"),
        path("answer/<slug:code>/", portal.answer, name="answer"),
        path("done/<int:response_id>/", portal.done, name="done"),
        path("link/<str:token>/", portal.link, name="link"),
    ],
    "questionnaires",
)
