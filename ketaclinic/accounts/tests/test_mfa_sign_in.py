"""Signing in with a password and an authenticator code: enrolment, verification, replay
refused, failures audited and throttled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import mfa
from ketaclinic.accounts.models import SecondFactorThrottle
from ketaclinic.audit.models import AuditEvent, Outcome

from .mfa_makers import code_now, make_authenticator, password_only


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def test_a_nurse_with_an_authenticator_signs_in_with_password_then_code(nurse):
    device = make_authenticator(nurse)
    client = password_only(nurse)

    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/verify/?next=/patients/"

    response = client.post(
        "/accounts/mfa/verify/", {"code": code_now(device), "next": "/patients/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    event = AuditEvent.objects.get(action="mfa.verified")
    assert (event.actor, event.detail["method"]) == (nurse, "totp")
    assert event.object_id == str(device.pk)


def test_the_password_page_sends_a_person_with_a_device_on_to_the_code(nurse):
    make_authenticator(nurse)
    client = password_only(nurse)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/mfa/verify/")
    assert b"Code from your authenticator app, or a recovery code" in response.content


def test_a_totp_code_cannot_be_used_twice(nurse):
    device = make_authenticator(nurse)
    code = code_now(device)
    first = password_only(nurse)
    assert first.post("/accounts/mfa/verify/", {"code": code}).status_code == 302

    second = password_only(nurse)
    response = second.post("/accounts/mfa/verify/", {"code": code})
    assert response.status_code == 422
    assert b"That code did not match" in response.content
    assert second.get("/patients/").status_code == 302  # still held back
    refused = AuditEvent.objects.get(action="mfa.refused")
    assert (refused.actor, refused.outcome) == (nurse, Outcome.REFUSED)


def test_an_older_code_is_refused_after_a_newer_one_was_used(nurse):
    device = make_authenticator(nurse)
    previous = code_now(device, steps_ago=1)
    assert password_only(nurse).post("/accounts/mfa/verify/", {"code": code_now(device)})
    response = password_only(nurse).post("/accounts/mfa/verify/", {"code": previous})
    assert response.status_code == 422


def test_a_wrong_code_is_audited_and_says_how_many_tries_are_left(nurse):
    make_authenticator(nurse)
    client = password_only(nurse)
    response = client.post("/accounts/mfa/verify/", {"code": "000000"})
    assert response.status_code == 422
    assert b"4 more wrong codes will lock the second step for 15 minutes" in response.content
    event = AuditEvent.objects.get(action="mfa.refused")
    assert event.outcome == Outcome.REFUSED
    assert event.detail == {"method": "totp", "failures": 1}
    assert SecondFactorThrottle.objects.get(user=nurse).failures == 1


def test_five_wrong_codes_lock_the_second_step_even_for_the_right_code(nurse):
    device = make_authenticator(nurse)
    client = password_only(nurse)
    for _ in range(mfa.MAX_FAILURES - 1):
        assert client.post("/accounts/mfa/verify/", {"code": "000000"}).status_code == 422
    response = client.post("/accounts/mfa/verify/", {"code": "000000"})
    assert response.status_code == 429
    assert b"Too many wrong codes" in response.content

    response = client.post("/accounts/mfa/verify/", {"code": code_now(device)})
    assert response.status_code == 429
    assert client.get("/patients/").status_code == 302
    throttle = SecondFactorThrottle.objects.get(user=nurse)
    assert throttle.locked_until > timezone.now() + dt.timedelta(minutes=14)
    assert AuditEvent.objects.filter(action="mfa.locked", actor=nurse).count() == 1
    assert AuditEvent.objects.filter(action="mfa.refused", actor=nurse).count() == 6
    assert not AuditEvent.objects.filter(action="mfa.verified").exists()


def test_the_lock_ends_after_fifteen_minutes_and_a_right_code_then_works(nurse):
    device = make_authenticator(nurse)
    SecondFactorThrottle.objects.create(
        user=nurse, failures=mfa.MAX_FAILURES, locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    client = password_only(nurse)
    assert client.post("/accounts/mfa/verify/", {"code": code_now(device)}).status_code == 302
    throttle = SecondFactorThrottle.objects.get(user=nurse)
    assert (throttle.failures, throttle.locked_until) == (0, None)


def test_the_lock_is_per_person(nurse, prescriber):
    SecondFactorThrottle.objects.create(
        user=nurse, failures=mfa.MAX_FAILURES, locked_until=timezone.now() + mfa.LOCK_FOR
    )
    device = make_authenticator(prescriber)
    client = password_only(prescriber)
    assert client.post("/accounts/mfa/verify/", {"code": code_now(device)}).status_code == 302


def test_verifying_gives_the_session_a_new_key(nurse):
    device = make_authenticator(nurse)
    client = password_only(nurse)
    before = client.cookies["sessionid"].value
    client.post("/accounts/mfa/verify/", {"code": code_now(device)})
    assert client.cookies["sessionid"].value != before


def test_verify_refuses_to_send_the_person_to_another_site(nurse):
    device = make_authenticator(nurse)
    client = password_only(nurse)
    response = client.post(
        "/accounts/mfa/verify/", {"code": code_now(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_enrolment_shows_a_qr_code_drawn_here_and_confirms_with_the_first_code(nurse):
    client = password_only(nurse)
    response = client.get("/patients/")
    assert response["Location"] == "/accounts/mfa/enrol/?next=/patients/"

    page = client.get("/accounts/mfa/enrol/?next=/patients/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"http" not in page.content.split(b"<svg", 1)[1].split(b"</svg>", 1)[0].replace(
        b"http://www.w3.org/2000/svg", b""
    )  # the QR code is inline: no image fetched from an outside service
    pending = TOTPDevice.objects.get(user=nurse)
    assert not pending.confirmed

    response = client.post("/accounts/mfa/enrol/", {"code": "123456", "next": "/patients/"})
    assert response.status_code == 422
    pending.refresh_from_db()
    assert not pending.confirmed

    response = client.post(
        "/accounts/mfa/enrol/", {"code": code_now(pending), "next": "/patients/"}
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.confirmed
    codes = response.context["codes"]
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert all(code.encode() in response.content for code in codes)
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa.enrolled", actor=nurse).count() == 1
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_issued", actor=nurse).exists()


def test_a_person_with_a_device_cannot_add_another_without_verifying_first(nurse):
    make_authenticator(nurse)
    client = password_only(nurse)
    for path in ("/accounts/mfa/enrol/", "/accounts/mfa/passkeys/", "/accounts/mfa/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/mfa/verify/")
    assert TOTPDevice.objects.filter(user=nurse).count() == 1


def test_removing_the_authenticator_needs_a_verified_session_and_is_audited(nurse):
    from .mfa_makers import fully_signed_in

    device = make_authenticator(nurse)
    mfa.issue_recovery_codes(None, nurse)
    held = password_only(nurse)
    url = f"/accounts/mfa/devices/authenticator/{device.pk}/remove/"
    assert held.post(url).status_code == 302
    assert TOTPDevice.objects.filter(pk=device.pk).exists()

    client = fully_signed_in(nurse, device)
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not StaticToken.objects.filter(device__user=nurse).exists()
    assert AuditEvent.objects.filter(action="mfa.device_removed", actor=nurse).count() == 1
    # Without a device and with MFA required, the next page asks to enrol again.
    assert client.get("/patients/")["Location"].startswith("/accounts/mfa/enrol/")


def test_another_persons_device_cannot_be_removed(nurse, prescriber):
    from .mfa_makers import fully_signed_in

    theirs = make_authenticator(prescriber)
    client = fully_signed_in(nurse, make_authenticator(nurse))
    response = client.post(f"/accounts/mfa/devices/authenticator/{theirs.pk}/remove/")
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("typed", ["", "12 34 56 78", "abc\x00def", "x" * 5000, "１２３４５６"])
def test_odd_input_is_a_wrong_code_not_an_error(nurse, typed):
    make_authenticator(nurse)
    response = password_only(nurse).post("/accounts/mfa/verify/", {"code": typed})
    assert response.status_code in {400, 422}
    assert not AuditEvent.objects.filter(action="mfa.verified").exists()


def test_a_code_typed_with_spaces_is_accepted(nurse):
    device = make_authenticator(nurse)
    code = code_now(device)
    response = password_only(nurse).post(
        "/accounts/mfa/verify/", {"code": f"{code[:3]} {code[3:]}"}
    )
    assert response.status_code == 302


def test_every_page_links_to_sign_in_security_beside_the_password(settings, nurse):
    settings.MFA_REQUIRED = False
    page = password_only(nurse).get("/patients/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/accounts/mfa/">Sign-in security</a>' in html
