"""Old idempotency keys are pruned; recent ones keep answering repeats."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.models import IngestionRequest
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)


@pytest.fixture
def floor(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)
    return session, token


def test_keys_older_than_the_window_are_pruned_and_recent_ones_kept(floor):
    session, token = floor
    post_vitals(session.pk, token, reading(1), key="old")
    recent = reading(2)
    post_vitals(session.pk, token, recent, key="recent")
    IngestionRequest.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    out = StringIO()

    call_command("prune_ingestion_keys", stdout=out)

    assert list(IngestionRequest.objects.values_list("key", flat=True)) == ["recent"]
    assert "pruned 1 idempotency keys older than 24 h" in out.getvalue()
    event = AuditEvent.objects.filter(action="monitor.keys_pruned").get()
    assert event.detail == {"pruned": 1, "older_than_hours": 24.0}
    again = post_vitals(session.pk, token, recent, key="recent")
    assert again["Idempotent-Replayed"] == "true"


def test_the_window_cannot_be_shorter_than_an_hour(floor):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_ingestion_keys", "--hours", "0")
    assert not AuditEvent.objects.filter(action="monitor.keys_pruned").exists()
