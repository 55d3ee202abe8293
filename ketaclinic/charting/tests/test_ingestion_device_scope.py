"""A monitor writes only to the session running in its own chair; anything else is "not
found" (it does not learn that other sessions exist). A revoked, unknown or staff token is
refused with 401. Tokens are shown once and only their hash is kept."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ketaclinic.accounts.models import ApiToken, hash_token
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting import devices
from ketaclinic.charting.models import MonitorDevice, SessionStatus, VitalReading
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)


@pytest.fixture
def chairs(db):
    return make_chairs(2)


@pytest.fixture
def session(chairs, prescriber, nurse, patient_a):
    return make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chairs[0])


def test_a_monitor_writes_to_the_session_in_its_chair(session, chairs):
    device, token = monitor_in(chairs[0])

    response = post_vitals(session.pk, token, reading(1))

    assert response.status_code == 201
    row = VitalReading.objects.get(session=session)
    assert (row.source, row.device_id, row.recorded_by_id) == ("device", device.pk, None)
    event = AuditEvent.objects.get(action="session.vitals")
    assert event.actor_username == f"device:{device.pk}"
    assert event.patient_id == session.patient_id


def test_another_chairs_session_is_not_found(session, chairs, prescriber, nurse, patient_b):
    _, token = monitor_in(chairs[1])

    response = post_vitals(session.pk, token, reading(1))

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": []}
    assert not VitalReading.objects.exists()
    refused = AuditEvent.objects.get(action="monitor.refused")
    assert refused.outcome == Outcome.REFUSED


@pytest.mark.parametrize(
    "status", [SessionStatus.DISCHARGED, SessionStatus.NOT_STARTED, SessionStatus.ENTERED_IN_ERROR]
)
def test_a_session_no_longer_running_in_the_chair_is_not_found(session, chairs, status):
    _, token = monitor_in(chairs[0])
    session.status = status
    session.save(update_fields=["status"])

    assert post_vitals(session.pk, token, reading(1)).status_code == 404
    assert not VitalReading.objects.exists()


@pytest.mark.parametrize("status", [SessionStatus.CHECKLIST, SessionStatus.OBSERVATION])
def test_every_running_status_takes_readings(session, chairs, status):
    _, token = monitor_in(chairs[0])
    session.status = status
    session.save(update_fields=["status"])

    assert post_vitals(session.pk, token, reading(1)).status_code == 201


def test_a_session_that_does_not_exist_is_not_found(session, chairs):
    _, token = monitor_in(chairs[0])

    assert post_vitals(session.pk + 999, token, reading(1)).status_code == 404


def test_a_revoked_token_is_refused(session, chairs):
    device, token = monitor_in(chairs[0])
    assert devices.monitor_revoke(device=device)

    response = post_vitals(session.pk, token, reading(1))

    assert response.status_code == 401
    assert not VitalReading.objects.exists()
    assert AuditEvent.objects.filter(action="auth.token_refused").exists()
    assert AuditEvent.objects.filter(action="monitor.revoke").exists()
    assert not devices.monitor_revoke(device=device)


@pytest.mark.parametrize("token", ["", "kcm_not-a-token", "kc_not-a-token"])
def test_an_unknown_token_is_refused(session, token):
    assert post_vitals(session.pk, token, reading(1)).status_code == 401


def test_a_staff_token_is_not_a_monitor(session, nurse):
    _, raw = ApiToken.issue(nurse, "laptop")

    assert post_vitals(session.pk, raw, reading(1)).status_code == 401


def test_monitor_create_prints_the_token_once_and_keeps_only_its_hash(chairs, session):
    out, err = io.StringIO(), io.StringIO()

    call_command("monitor_create", str(chairs[0].pk), "Chair 1 Philips", stdout=out, stderr=err)

    token = out.getvalue().strip()
    device = MonitorDevice.objects.get()
    assert token.startswith(devices.DEVICE_TOKEN_PREFIX)
    assert device.key_hash == hash_token(token)
    assert token not in device.key_hash
    assert (device.name, device.chair_id) == ("Chair 1 Philips", chairs[0].pk)
    assert token not in str(AuditEvent.objects.get(action="monitor.issue").detail)
    assert post_vitals(session.pk, token, reading(1)).status_code == 201


def test_monitor_create_refuses_an_unknown_chair(db):
    with pytest.raises(CommandError, match="no chair"):
        call_command("monitor_create", "999", "Ghost", stdout=io.StringIO())


def test_monitor_revoke_stops_the_token(chairs, session):
    device, token = monitor_in(chairs[0])

    call_command("monitor_revoke", str(device.pk), stdout=io.StringIO())

    assert post_vitals(session.pk, token, reading(1)).status_code == 401
