"""Passkeys (WebAuthn) as a second factor, through django-otp-webauthn.

The library's ceremony views are used as they are, with three additions: a verification
respects the second-factor lock and counts a failure like a wrong code (accounts/mfa.py),
success goes through the same ``complete_second_step`` as a code, and registrations are
audited. Its browser script is served from the installed package's static files.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.middleware import csrf
from django.urls import reverse
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from ketaclinic.audit import trail

from . import mfa

LOCAL_HOSTS = {"localhost", "127.0.0.1"}


def host_name(request) -> str:
    host = request.get_host()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def relying_party_id(request) -> str:
    """The site's host name: passkeys are bound to it (ALLOWED_HOSTS vouches for it)."""
    return host_name(request)


class ClinicWebAuthnHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        """The configured origins; on a development machine also the local server's own,
        whatever its port (the test server picks one at random)."""
        origins = list(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
        if not settings.SECURE_MODE and host_name(self.request) in LOCAL_HOSTS:
            origins.append(f"{self.request.scheme}://{self.request.get_host()}")
        return origins


def credentials_of(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")


def script_config(request) -> dict:
    """What the library's browser script reads from the page (a JSON data block, not code)."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse("accounts:passkey_verify_begin"),
        "completeAuthenticationUrl": reverse("accounts:passkey_verify_complete"),
        "beginRegistrationUrl": reverse("accounts:passkey_register_begin"),
        "completeRegistrationUrl": reverse("accounts:passkey_register_complete"),
    }


class SecondStepLocked(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked"
    default_detail = "Too many failed attempts."


class LockAware:
    """Refuse a verification ceremony while the user's second step is locked."""

    def check_can_authenticate(self):
        super().check_can_authenticate()
        user = self.request.user
        if not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        until = mfa.locked_until(user)
        if until is not None:
            mfa.record_refused_while_locked(self.request, user, method="passkey")
            raise SecondStepLocked(detail=mfa.lock_message(until))


class PasskeyVerifyBegin(LockAware, BeginCredentialAuthenticationView):
    pass


class PasskeyVerifyComplete(LockAware, CompleteCredentialAuthenticationView):
    def complete_auth(self, device) -> None:
        mfa.complete_second_step(self.request, device, method="passkey")

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and not isinstance(
            exc, SecondStepLocked | exceptions.NotAuthenticated
        ):
            until = mfa.record_failure(self.request, self.request.user, method="passkey")
            if until is not None:
                exc = SecondStepLocked(detail=mfa.lock_message(until))
        return super().handle_exception(exc)


class PasskeyRegisterBegin(BeginCredentialRegistrationView):
    pass


class PasskeyRegisterComplete(CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        device = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
        trail.record(
            action="mfa.enrolled",
            request=self.request,
            target=device,
            detail={"method": "passkey", "name": device.name},
        )
        self.request.session[mfa.ENROLLED_SESSION_KEY] = True
        return JsonResponse({"id": device.pk})
