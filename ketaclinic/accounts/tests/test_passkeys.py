"""Passkeys (WebAuthn): the ceremony endpoints, as far as a server can go without an
authenticator; the browser test registers and uses one in Chromium's virtual authenticator."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts import mfa
from ketaclinic.accounts.models import SecondFactorThrottle
from ketaclinic.audit.models import AuditEvent, Outcome

from .mfa_makers import fully_signed_in, make_authenticator, password_only

REGISTER_BEGIN = "/accounts/mfa/passkeys/register/begin/"
REGISTER_COMPLETE = "/accounts/mfa/passkeys/register/complete/"
VERIFY_BEGIN = "/accounts/mfa/passkeys/verify/begin/"
VERIFY_COMPLETE = "/accounts/mfa/passkeys/verify/complete/"

FORGED_ASSERTION = {
    "id": "AAAA",
    "rawId": "AAAA",
    "type": "public-key",
    "response": {
        "clientDataJSON": "e30",
        "authenticatorData": "AAAA",
        "signature": "AAAA",
        "userHandle": None,
    },
    "clientExtensionResults": {},
}


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_registration_options_name_this_site_and_the_person(nurse):
    client = password_only(nurse)
    response = post_json(client, REGISTER_BEGIN)
    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"name": "ketaclinic demo clinic", "id": "testserver"}
    assert options["user"]["name"] == "nurse"
    assert len(options["challenge"]) >= 32
    assert options["excludeCredentials"] == []


def test_registration_needs_a_verified_session_once_a_device_exists(nurse):
    make_authenticator(nurse)
    response = post_json(password_only(nurse), REGISTER_BEGIN)
    assert response.status_code == 403
    assert response.json()["code"] == "user_not_verified"


def test_registration_options_need_a_sign_in(db):
    response = post_json(Client(), REGISTER_BEGIN)
    assert response.status_code in {302, 403}


def test_a_forged_registration_is_refused_without_storing_a_passkey(nurse):
    from django_otp_webauthn.models import WebAuthnCredential

    client = password_only(nurse)
    post_json(client, REGISTER_BEGIN)
    response = post_json(client, REGISTER_COMPLETE, FORGED_ASSERTION)
    assert 400 <= response.status_code < 500
    assert not WebAuthnCredential.objects.exists()
    assert not AuditEvent.objects.filter(action="mfa.enrolled").exists()


def test_authentication_options_are_offered_to_a_signed_in_person(nurse):
    make_authenticator(nurse)
    response = post_json(password_only(nurse), VERIFY_BEGIN)
    assert response.status_code == 200
    options = response.json()
    assert options["rpId"] == "testserver"
    assert options["allowCredentials"] == []


def test_passwordless_sign_in_with_a_passkey_is_off(db):
    response = post_json(Client(), VERIFY_BEGIN)
    assert response.status_code == 403


def test_a_forged_assertion_counts_as_a_failed_attempt_and_is_audited(nurse):
    make_authenticator(nurse)
    client = password_only(nurse)
    post_json(client, VERIFY_BEGIN)
    response = post_json(client, VERIFY_COMPLETE, FORGED_ASSERTION)
    assert 400 <= response.status_code < 500
    assert client.get("/patients/").status_code == 302
    event = AuditEvent.objects.get(action="mfa.refused")
    assert (event.actor, event.outcome, event.detail["method"]) == (
        nurse,
        Outcome.REFUSED,
        "passkey",
    )
    assert SecondFactorThrottle.objects.get(user=nurse).failures == 1


def test_an_assertion_without_options_first_is_refused(nurse):
    make_authenticator(nurse)
    response = post_json(password_only(nurse), VERIFY_COMPLETE, FORGED_ASSERTION)
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="mfa.refused").count() == 1


def test_the_fifth_failure_locks_passkeys_too(nurse):
    make_authenticator(nurse)
    SecondFactorThrottle.objects.create(user=nurse, failures=mfa.MAX_FAILURES - 1)
    client = password_only(nurse)
    post_json(client, VERIFY_BEGIN)
    response = post_json(client, VERIFY_COMPLETE, FORGED_ASSERTION)
    assert response.status_code == 429
    assert "Too many wrong codes" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="mfa.locked", actor=nurse).exists()


def test_a_locked_person_gets_no_passkey_options(nurse):
    make_authenticator(nurse)
    SecondFactorThrottle.objects.create(
        user=nurse, failures=mfa.MAX_FAILURES, locked_until=timezone.now() + mfa.LOCK_FOR
    )
    response = post_json(password_only(nurse), VERIFY_BEGIN)
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]


def test_the_passkey_pages_load_the_librarys_script_from_our_static_files(nurse):
    client = fully_signed_in(nurse, make_authenticator(nurse))
    page = client.get("/accounts/mfa/passkeys/").content.decode()
    assert (
        '<script type="module" src="/static/django_otp_webauthn/otp_webauthn_register.js">' in page
    )
    assert '<script src="/static/accounts/passkeys.js">' in page
    assert 'id="otp_webauthn_config" type="application/json"' in page
    assert "onclick" not in page
    assert "//cdn" not in page


def test_the_allowed_origins_add_the_local_server_only_outside_secure_mode(rf, settings):
    from ketaclinic.accounts.passkeys import ClinicWebAuthnHelper

    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://clinic.example.org"]
    request = rf.get("/", HTTP_HOST="localhost:51234")
    settings.SECURE_MODE = False
    assert ClinicWebAuthnHelper(request).get_allowed_origins() == [
        "https://clinic.example.org",
        "http://localhost:51234",
    ]
    settings.SECURE_MODE = True
    assert ClinicWebAuthnHelper(request).get_allowed_origins() == ["https://clinic.example.org"]
