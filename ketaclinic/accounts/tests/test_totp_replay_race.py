"""Eight sign-ins racing with the same authenticator code: exactly one gets through.

django-otp refuses a time step it has already accepted; the device row is locked while a
code is checked (accounts/mfa.py), so two requests cannot both read the old step and pass.
PostgreSQL only: on SQLite, IMMEDIATE transactions already queue the writers one by one,
and the in-memory test database cannot be shared between threads.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import mfa

from .mfa_makers import code_now, make_authenticator

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
RACERS = 8


def test_the_same_code_sent_eight_times_at_once_verifies_once(nurse, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("a real race needs PostgreSQL's concurrent writers")
    device = make_authenticator(nurse)
    code = code_now(device)
    # Widen the window between reading the device and storing its used step, so that
    # without the row lock every racer would read the old step and pass.
    save = TOTPDevice.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.2)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(TOTPDevice, "save", slow_save)
    start = threading.Barrier(RACERS)
    results: list[bool] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            start.wait()
            results.append(mfa.verify_code(nurse, code).ok)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False] * (RACERS - 1) + [True]
