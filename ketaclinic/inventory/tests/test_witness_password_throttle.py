"""A witness signs with their own password; wrong ones are throttled apart from sign-in.

Each wrong witness password is audited (naming the witness, never the password). After
``WRONG_PASSWORDS_ALLOWED`` wrong passwords in the window, that witness's signature is
refused with 429 on the page and the API until the window passes, and django-axes never
sees any of it: the witness signs in as usual.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.test import Client

from ketaclinic.accounts import verification
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import PASSWORD, signed_in
from ketaclinic.inventory.models import EntryKind, LedgerEntry

from .helpers import receive

API = "/api/v1/inventory"


@pytest.fixture
def lot(nurse):
    return receive(nurse, vials=1).lot


def api_waste(client, lot, witness, password: str):
    body = {
        "quantity_mg": "500",
        "reason": "vial dropped",
        "witness_username": witness.username,
        "witness_password": password,
    }
    return client.post(
        f"{API}/lots/{lot.pk}/wastes", json.dumps(body), content_type="application/json"
    )


def page_waste(client, lot, witness, password: str):
    return client.post(
        f"/inventory/lots/{lot.pk}/waste/",
        {
            "quantity_mg": "500",
            "reason": "vial dropped",
            "witness": witness.pk,
            "witness_password": password,
        },
    )


def wrong_passwords_for(user):
    return AuditEvent.objects.filter(
        action=verification.WRONG_PASSWORD, object_type="User", object_id=str(user.pk)
    )


def test_a_wrong_witness_password_is_audited_without_the_password(lot, nurse, prescriber):
    response = api_waste(signed_in(nurse), lot, prescriber, "guess-what")

    assert response.status_code == 422
    (event,) = wrong_passwords_for(prescriber)
    assert (event.outcome, event.actor) == (Outcome.REFUSED, nurse)
    assert event.detail == {"purpose": "inventory.waste", "verifier": prescriber.username}
    assert "guess-what" not in json.dumps(event.detail)
    assert not AccessAttempt.objects.exists()


def test_the_api_answers_429_after_too_many_wrong_passwords(lot, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        assert api_waste(client, lot, prescriber, "guess").status_code == 422

    paused = api_waste(client, lot, prescriber, PASSWORD)

    assert paused.status_code == 429
    assert "Too many wrong passwords" in paused.json()["message"]
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()
    assert AuditEvent.objects.filter(action=verification.THROTTLED).count() == 1
    assert not AccessAttempt.objects.exists()
    signed = Client().post(
        "/accounts/login/", {"username": prescriber.username, "password": PASSWORD}
    )
    assert signed.status_code == 302


def test_the_page_answers_429_with_the_message(lot, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        assert page_waste(client, lot, prescriber, "guess").status_code == 422

    paused = page_waste(client, lot, prescriber, PASSWORD)

    assert paused.status_code == 429
    assert "Too many wrong passwords" in paused.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()


def test_the_pause_counts_wrong_passwords_per_witness(lot, nurse, prescriber):
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED - 1):
        api_waste(signed_in(nurse), lot, prescriber, "guess")
    assert verification.throttled_for(prescriber) is None

    api_waste(signed_in(nurse), lot, prescriber, "guess")

    assert verification.throttled_for(prescriber) is not None
    assert verification.throttled_for(nurse) is None


def test_the_witness_signs_again_once_the_window_passes(lot, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        api_waste(client, lot, prescriber, "guess")
    later = verification.clock() + verification.WINDOW

    with mock.patch.object(verification, "clock", return_value=later):
        response = api_waste(client, lot, prescriber, PASSWORD)

    assert response.status_code == 201
    assert LedgerEntry.objects.get(kind=EntryKind.WASTE).witness == prescriber
