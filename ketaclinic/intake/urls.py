from __future__ import annotations

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("requests/", views.queue, name="queue"),
    path("requests/<int:request_id>/", views.request_detail, name="request_detail"),
]
