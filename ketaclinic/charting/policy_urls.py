from django.urls import path

from . import policy_views

app_name = "policy"

urlpatterns = [
    path("vitals/", policy_views.vital_sign_policy, name="vitals"),
]
