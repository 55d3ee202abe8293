"""`manage.py mfa_reset USERNAME --reason ...` clears a lost second factor, audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp import user_has_device

from ketaclinic.accounts import mfa
from ketaclinic.accounts.models import SecondFactorThrottle
from ketaclinic.audit.models import AuditEvent

from .mfa_makers import make_authenticator, password_only


def test_reset_removes_every_device_and_the_lock(settings, nurse):
    settings.MFA_REQUIRED = True
    make_authenticator(nurse)
    mfa.issue_recovery_codes(None, nurse)
    SecondFactorThrottle.objects.create(
        user=nurse, failures=5, locked_until=timezone.now() + mfa.LOCK_FOR
    )
    out = StringIO()
    call_command("mfa_reset", "nurse", "--reason", "lost phone, seen in person", stdout=out)
    assert "removed 2 device(s) of nurse" in out.getvalue()
    assert not user_has_device(nurse, confirmed=None)
    assert not SecondFactorThrottle.objects.filter(user=nurse).exists()
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.detail == {"devices": 2, "reason": "lost phone, seen in person", "by": "cli"}
    assert password_only(nurse).get("/patients/")["Location"].startswith("/accounts/mfa/enrol/")


def test_reset_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("mfa_reset", "ghost", "--reason", "x", stdout=StringIO())
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_with_mfa_off_a_session_whose_device_was_reset_is_let_through(settings, nurse):
    settings.MFA_REQUIRED = False
    make_authenticator(nurse)
    client = password_only(nurse)
    assert client.get("/patients/").status_code == 302
    call_command("mfa_reset", "nurse", "--reason", "lost phone", stdout=StringIO())
    assert client.get("/patients/").status_code == 200
