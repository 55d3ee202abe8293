"""Tokens issued before tokens expired get one: 90 days after their creation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0003_apitoken_expiry_required_secondfactorthrottle")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_tokens_expire_ninety_days_after_they_were_created():
    old_apps = migrate(BEFORE)
    try:
        User = old_apps.get_model("accounts", "User")
        ApiToken = old_apps.get_model("accounts", "ApiToken")
        user = User.objects.create(username="monitor-owner", role="nurse")
        created = timezone.now() - dt.timedelta(days=30)
        ApiToken.objects.create(
            user=user, name="old", key_hash="a" * 64, prefix="kc_old", created_at=created
        )
    finally:
        new_apps = migrate(AFTER)
    token = new_apps.get_model("accounts", "ApiToken").objects.get(prefix="kc_old")
    assert token.expires_at == created + dt.timedelta(days=90)
