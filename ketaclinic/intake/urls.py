from __future__ import annotations

from django.urls import path

from . import invitations, views

app_name = "intake"

urlpatterns = [
    # Public: no sign-in.
    path("request/", views.request_form, name="request"),
    path("request/received/", views.request_thanks, name="request_thanks"),
    path("learn/", views.learn_index, name="learn"),
    path("learn/<slug:slug>/", views.learn_page, name="learn_page"),
    # Staff: the triage queue.
    path("triage/", views.queue, name="queue"),
    path("triage/<int:request_id>/", views.request_detail, name="request_detail"),
    path("triage/<int:request_id>/status/", views.transition, name="transition"),
    path("triage/<int:request_id>/red-flag/", views.red_flag, name="red_flag"),
    path("triage/<int:request_id>/convert/", views.convert, name="convert"),
    # Staff: a portal login for the patient (invitations.py).
    path(
        "patients/<int:patient_id>/portal-invitation/",
        invitations.invite,
        name="portal_invite",
    ),
]
