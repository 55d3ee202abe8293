"""The log over JSON: same services, same refusals, the API's error shape."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from ketaclinic.conftest import PASSWORD, signed_in
from ketaclinic.inventory.models import EntryKind, LedgerEntry

from .helpers import chart_bolus, plan_for, receive, session_on

API = "/api/v1/inventory"


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def session(patient_a, prescriber, nurse):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    chart_bolus(session, "35")
    return session


def test_a_receipt_then_a_draw_an_administration_and_a_witnessed_waste(nurse, prescriber, session):
    client = signed_in(nurse)
    receipt = post(
        client,
        f"{API}/receipts",
        {
            "drug": "racemic ketamine",
            "product": "Ketamine HCl 50 mg/mL, 10 mL",
            "supplier": "Henry Schein",
            "lot_number": "API-1",
            "mg_per_vial": "500",
            "ml_per_vial": "10",
            "vials": 2,
            "expires_on": (timezone.localdate() + dt.timedelta(days=300)).isoformat(),
        },
    )
    assert receipt.status_code == 201, receipt.content
    lot_id = receipt.json()["lot_id"]

    drawn = post(
        client, f"{API}/sessions/{session.pk}/draws", {"lot_id": lot_id, "quantity_mg": "50"}
    )
    assert drawn.status_code == 201
    draw_id = drawn.json()["id"]

    given = post(client, f"{API}/sessions/{session.pk}/administrations", {"draw_id": draw_id})
    assert given.status_code == 201
    assert Decimal(given.json()["quantity_mg"]) == 35

    wasted = post(
        client,
        f"{API}/sessions/{session.pk}/wastes",
        {
            "draw_id": draw_id,
            "quantity_mg": "15",
            "witness_username": prescriber.username,
            "witness_password": PASSWORD,
        },
    )
    assert wasted.status_code == 201
    assert wasted.json()["witness"] == "prescriber"

    log = client.get(f"{API}/sessions/{session.pk}").json()
    assert Decimal(log["delivered_mg"]) == Decimal(log["administered_mg"]) == 35
    assert log["open_draws"] == {}
    lot = client.get(f"{API}/lots/{lot_id}").json()
    assert Decimal(lot["lot"]["on_hand_mg"]) == 950
    assert [Decimal(line["on_hand_mg"]) for line in lot["lines"]] == [1000, 950, 950, 950]


def test_an_overdraw_answers_422_naming_the_field(nurse, session):
    lot = receive(nurse, vials=1).lot
    response = post(
        signed_in(nurse),
        f"{API}/sessions/{session.pk}/draws",
        {"lot_id": lot.pk, "quantity_mg": "501"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quantity_mg"
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()


def test_a_waste_with_the_wrong_witness_password_is_refused(nurse, prescriber, session):
    lot = receive(nurse, vials=1).lot
    response = post(
        signed_in(nurse),
        f"{API}/lots/{lot.pk}/wastes",
        {
            "quantity_mg": "500",
            "reason": "dropped",
            "witness_username": prescriber.username,
            "witness_password": "guess",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "witness_password"
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()


def test_a_count_over_the_api_reports_the_discrepancy(nurse, prescriber):
    lot = receive(nurse, vials=2).lot
    response = post(
        signed_in(prescriber),
        f"{API}/lots/{lot.pk}/counts",
        {"full_vials": 1, "witness_username": nurse.username, "witness_password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["flagged"] is True
    assert Decimal(body["entry"]["discrepancy_mg"]) == -500


@pytest.mark.parametrize(("who", "status"), [("front_desk", 403), ("patient_a", 404)])
def test_the_api_refuses_who_the_pages_refuse(cast, session, who, status):
    client = signed_in(cast[who])
    assert client.get(f"{API}/lots").status_code == status
    # Their own session (patient A) or any session (front desk): known, not theirs to read.
    assert client.get(f"{API}/sessions/{session.pk}").status_code == 403


def test_another_patients_session_is_not_found_over_the_api(cast, session):
    assert signed_in(cast["patient_b"]).get(f"{API}/sessions/{session.pk}").status_code == 404


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("mg_per_vial", {"mg_per_vial": "60000000", "vials": 1}),
        ("vials", {"mg_per_vial": "500000", "vials": 824}),
    ],
)
def test_a_receipt_too_large_for_the_log_is_a_422_naming_the_field(nurse, field, changes):
    receipt = {
        "drug": "racemic ketamine",
        "product": "Ketamine HCl 50 mg/mL, 10 mL",
        "supplier": "Henry Schein",
        "lot_number": "TOO-BIG",
        "ml_per_vial": "10",
        "expires_on": (timezone.localdate() + dt.timedelta(days=300)).isoformat(),
        **changes,
    }

    answer = post(signed_in(nurse), f"{API}/receipts", receipt)

    assert answer.status_code == 422, answer.content
    assert field in json.dumps(answer.json()["errors"])
    assert not LedgerEntry.objects.filter(lot__lot_number="TOO-BIG").exists()
