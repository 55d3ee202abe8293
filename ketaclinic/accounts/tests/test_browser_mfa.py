"""In Chromium: a nurse signs in with a password and an authenticator code and reaches the
worklist; a nurse sets up the authenticator from the QR page's key; a passkey is registered
and then used to sign in, in Chromium's virtual authenticator (DevTools WebAuthn domain)."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import make_user, sign_in

from .mfa_makers import code_now, make_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED = True


@pytest.fixture
def csp_violations(page):
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_a_nurse_signs_in_with_an_authenticator_code_and_reaches_the_worklist(page, csp_violations):
    nurse = make_user("nurse", Role.NURSE, credentials="RN")
    device = make_authenticator(nurse)

    page.goto("/outcomes/worklist/")
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code_now(device))
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    assert page.url.endswith("/outcomes/worklist/")
    assert csp_violations == []


def test_a_nurse_sets_up_an_authenticator_from_the_key_on_the_page(page, csp_violations):
    make_user("nurse", Role.NURSE, credentials="RN")
    sign_in(page, "nurse")
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()

    key = page.locator("#manual-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    page.get_by_label("Six-digit code").fill(f"{TOTP(secret).token():06d}")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_text("They are shown only now.")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    assert csp_violations == []


def add_virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_a_nurse_registers_a_passkey_and_signs_in_with_it(page, csp_violations):
    from django_otp_webauthn.models import WebAuthnCredential

    nurse = make_user("nurse", Role.NURSE, credentials="RN")
    device = make_authenticator(nurse)
    add_virtual_authenticator(page)

    sign_in(page, "nurse")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto("/accounts/mfa/passkeys/")
    expect(page.locator("#no-passkeys")).to_be_visible()
    page.get_by_role("button", name="Register a passkey").click()
    expect(page.locator("#passkeys tbody tr")).to_have_count(1)
    assert WebAuthnCredential.objects.filter(user=nurse, confirmed=True).count() == 1

    page.get_by_role("button", name="Sign out").click()
    page.goto("/outcomes/worklist/")
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Verify with a passkey").click()

    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    assert re.search(r"/outcomes/worklist/$", page.url)
    assert csp_violations == []
    enrolled = AuditEvent.objects.get(action="mfa.enrolled")
    assert (enrolled.actor, enrolled.detail["method"]) == (nurse, "passkey")
    methods = list(
        AuditEvent.objects.filter(action="mfa.verified")
        .order_by("seq")
        .values_list("detail__method", flat=True)
    )
    assert methods == ["totp", "passkey"]
