"""Helpers for second-factor tests: an authenticator device and the code it shows now."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.conftest import PASSWORD


def make_authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_now(device: TOTPDevice, *, steps_ago: int = 0) -> str:
    """The six digits the person's app shows (``steps_ago`` 30-second steps back)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() - steps_ago * device.step
    return f"{totp.token():0{device.digits}d}"


def password_only(user) -> Client:
    """A client that has signed in with the password, and nothing more."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def fully_signed_in(user, device: TOTPDevice) -> Client:
    client = password_only(user)
    response = client.post("/accounts/mfa/verify/", {"code": code_now(device)})
    assert response.status_code == 302, response.content
    return client
