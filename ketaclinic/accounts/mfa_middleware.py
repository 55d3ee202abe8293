"""Hold a signed-in session back until its second factor is verified (accounts/mfa.py).

When ``settings.MFA_REQUIRED`` is on, a staff member (or a Django-admin account) who has
signed in with a password alone reaches only sign-out, the second-factor pages and static
files: every other page sends them to enrol (no device yet) or to verify (a device exists),
and the JSON API answers 401 for the session. A person who has enrolled a device is asked
for it whatever the setting. Bearer tokens are not sessions and are not affected.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .mfa import ENROLLED_SESSION_KEY, has_device, must_use_second_factor, required_by_policy

API_PREFIX = "/api/"
FHIR_PREFIX = "/fhir/"
SECOND_FACTOR_API_MESSAGE = (
    "This session has not passed its second factor (authenticator code or passkey) yet: "
    "verify it at /accounts/mfa/verify/ or use a bearer token."
)


def open_paths() -> tuple[str, ...]:
    """Paths an unverified session may reach: signing out and the second step itself."""
    return (
        reverse("accounts:login"),
        reverse("accounts:logout"),
        reverse("accounts:mfa"),  # the second-factor pages are all under this prefix
        "/" + settings.STATIC_URL.lstrip("/"),
    )


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not must_use_second_factor(request) or request.path.startswith(open_paths()):
            return self.get_response(request)
        enrolled = has_device(request.user)
        if not enrolled and not required_by_policy(request.user):
            # Their device was removed since sign-in (mfa_reset) and nothing requires one.
            request.session[ENROLLED_SESSION_KEY] = False
            return self.get_response(request)
        if request.path.startswith((API_PREFIX, FHIR_PREFIX)):
            return self.hold_back_api(request)
        return self.send_to_second_step(request, enrolled=enrolled)

    def hold_back_api(self, request):
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            # The bearer token alone decides; the unverified session must not stand in for it.
            request.user = AnonymousUser()
            return self.get_response(request)
        trail.record(
            action="mfa.required",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"via": "api"},
        )
        if request.path.startswith(FHIR_PREFIX):
            return fhir_unauthorized()
        return JsonResponse({"message": SECOND_FACTOR_API_MESSAGE, "errors": []}, status=401)

    @staticmethod
    def send_to_second_step(request, *, enrolled: bool) -> HttpResponse:
        step = "accounts:mfa_verify" if enrolled else "accounts:mfa_enrol"
        target = f"{reverse(step)}?next={quote(request.get_full_path())}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)


def fhir_unauthorized() -> JsonResponse:
    """The FHIR face answers in FHIR: an OperationOutcome, as its own errors are."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "login", "diagnostics": SECOND_FACTOR_API_MESSAGE}],
    }
    return JsonResponse(outcome, status=401, content_type="application/fhir+json")
