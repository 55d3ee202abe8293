"""Repeated failed logins lock the username for a cool-off; every failure is audited."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import PASSWORD

LOGIN = "/accounts/login/"


def attempt(client: Client, password: str):
    return client.post(LOGIN, {"username": "nurse", "password": password})


def test_a_correct_password_signs_in_and_is_audited(nurse):
    response = attempt(Client(), PASSWORD)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=nurse).count() == 1


def test_every_failed_login_is_recorded(nurse):
    client = Client()
    for _ in range(3):
        response = attempt(client, "wrong-password-here")
        assert response.status_code == 200
        assert b"did not match" in response.content
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert failures.count() == 3
    assert {e.actor_username for e in failures} == {"nurse"}
    assert {e.outcome for e in failures} == {Outcome.REFUSED}


def test_the_account_locks_after_the_failure_limit_even_for_the_right_password(nurse):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong-password-here")
    locked = attempt(client, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_lock_lifts_after_the_cool_off(nurse):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong-password-here")
    past = dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert attempt(client, PASSWORD).status_code == 302
