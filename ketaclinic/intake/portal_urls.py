"""The patient's intake pages, included under ``portal/`` (ketaclinic/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import invitations, portal_views, withdrawal

app_name = "portal_intake"

urlpatterns = [
    path("intake/", portal_views.intake_form, name="intake"),
    path("consents/", portal_views.consents, name="consents"),
    path("consents/<slug:code>/", portal_views.consent_sign, name="consent_sign"),
    path("consents/withdraw/<int:signature_id>/", withdrawal.withdraw, name="consent_withdraw"),
    # The invitation's link: no sign-in (the token is the credential), then the portal.
    path("welcome/<uidb64>/<token>/", invitations.welcome, name="welcome"),
]
