"""An ``Idempotency-Key`` makes a monitor's retry safe: a repeat returns the stored answer
(same status, same body) and stores nothing more; the same key with another body is refused;
a request refused before it was processed does not use up its key; keys older than a day are
pruned."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.models import IngestionRequest, VitalReading
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)


@pytest.fixture
def floor(prescriber, nurse, patient_a):
    chair, spare = make_chairs(2)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    device, token = monitor_in(chair)
    return session, device, token, spare


def test_a_repeat_returns_the_stored_answer_and_stores_one_copy(floor):
    session, device, token, _ = floor
    body = {"readings": [reading(3), reading(1, systolic_mmhg=186, diastolic_mmhg=104)]}

    first = post_vitals(session.pk, token, body, key="batch-0001")
    again = post_vitals(session.pk, token, body, key="batch-0001")

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert first.json()["stored"] == 2
    assert [a["code"] for a in first.json()["alerts"]] == ["bp_high"]
    assert VitalReading.objects.filter(session=session).count() == 2
    assert session.alerts.count() == 1
    assert IngestionRequest.objects.filter(device=device, key="batch-0001").count() == 1
    assert AuditEvent.objects.filter(action="session.vitals").count() == 1


def test_the_same_key_with_a_different_body_is_refused(floor):
    session, _, token, _ = floor
    post_vitals(session.pk, token, reading(2), key="batch-0002")

    response = post_vitals(session.pk, token, reading(1, heart_rate_bpm=90), key="batch-0002")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert "different body" in response.json()["message"]
    assert VitalReading.objects.filter(session=session).count() == 1


def test_the_same_body_to_another_session_path_is_a_different_request(floor, prescriber):
    session, _, token, _ = floor
    body = reading(2)
    post_vitals(session.pk, token, body, key="batch-0003")

    response = post_vitals(session.pk + 1000, token, body, key="batch-0003")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_repeat_sent_after_the_session_ended_still_gets_its_answer(floor):
    """A monitor that lost the first answer retries; discharge meanwhile is no reason to 404."""
    session, _, token, _ = floor
    body = {"readings": [reading(2)]}
    first = post_vitals(session.pk, token, body, key="batch-late")
    session.status = "discharged"
    session.save(update_fields=["status"])

    again = post_vitals(session.pk, token, body, key="batch-late")
    fresh = post_vitals(session.pk, token, body, key="batch-new")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert fresh.status_code == 404
    assert VitalReading.objects.filter(session=session).count() == 1


def test_a_repeat_of_an_answer_that_stored_nothing_is_that_same_answer(floor):
    session, _, token, _ = floor
    body = {"readings": [reading(1, spo2_pct=140)]}

    first = post_vitals(session.pk, token, body, key="batch-0004")
    again = post_vitals(session.pk, token, body, key="batch-0004")

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_request_refused_before_processing_leaves_its_key_unused(
    floor, prescriber, nurse, patient_b
):
    session, device, token, spare = floor
    elsewhere = make_session(patient=patient_b, prescriber=prescriber, nurse=nurse, chair=spare)
    body = reading(1)

    refused = post_vitals(elsewhere.pk, token, body, key="batch-0005")
    malformed = post_vitals(session.pk, token, {"readings": []}, key="batch-0005")
    accepted = post_vitals(session.pk, token, body, key="batch-0005")

    assert refused.status_code == 404
    assert malformed.status_code == 422
    assert accepted.status_code == 201
    assert IngestionRequest.objects.get(device=device, key="batch-0005").response_status == 201


def test_keys_belong_to_their_device(floor, prescriber, nurse, patient_b):
    session, _, token, spare = floor
    other = make_session(patient=patient_b, prescriber=prescriber, nurse=nurse, chair=spare)
    _, other_token = monitor_in(spare, "Second monitor")

    mine = post_vitals(session.pk, token, reading(1), key="shared-key")
    theirs = post_vitals(other.pk, other_token, reading(1), key="shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["session_id"] == other.pk
    assert VitalReading.objects.filter(session=other).count() == 1


def test_the_key_is_required_and_bounded(floor):
    session, _, token, _ = floor

    too_long = post_vitals(session.pk, token, reading(1), key="k" * 101)

    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "Idempotency-Key"
    assert VitalReading.objects.count() == 0


def test_keys_older_than_the_window_are_pruned_and_recent_ones_kept(floor):
    session, _, token, _ = floor
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
