"""`manage.py token_create` issues a bearer token shown once; only its hash is stored."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit.models import AuditEvent


def create_token(username: str, name: str = "monitor") -> str:
    out = StringIO()
    call_command("token_create", username, "--name", name, stdout=out)
    return out.getvalue().strip()


def test_token_create_prints_a_token_that_authenticates_and_stores_only_its_hash(nurse, patient_a):
    raw = create_token("nurse")
    stored = ApiToken.objects.get(user=nurse)
    assert raw.startswith("kc_")
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    response = Client().get(f"/api/v1/patients/{patient_a.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["mrn"] == patient_a.mrn
    assert AuditEvent.objects.filter(action="token.create", actor=nurse).exists()
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_a_revoked_token_no_longer_works(nurse):
    raw = create_token("nurse")
    prefix = ApiToken.objects.get(user=nurse).prefix
    call_command("token_revoke", "--prefix", prefix, stdout=StringIO())
    response = Client().get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["message"] == "Sign in or send a valid bearer token."
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_token_create_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no active user named 'ghost'"):
        create_token("ghost")
    assert not ApiToken.objects.exists()
