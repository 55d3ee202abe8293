"""The charges API: the coding calculator, a patient's charges, confirmation, corrections,
payments and the fee schedule — status, stored state, audit row, outsiders not found."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing.models import ChargeLine, ChargeStatus, FeeSchedule, Payment
from ketaclinic.billing.tests.charge_makers import DAY, esketamine_session
from ketaclinic.conftest import signed_in


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def post_raw(client, url, text):
    return client.post(url, text, content_type="application/json")


# --- code-session ----------------------------------------------------------------------------

CODE = "/api/v1/billing/code-session"


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        ({"route": "esketamine", "delivered_dose_mg": 56}, [{"code": "G2082", "units": 1}]),
        ({"route": "esketamine", "delivered_dose_mg": 56.1}, [{"code": "G2083", "units": 1}]),
        (
            {"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 89},
            [{"code": "96365", "units": 1}],
        ),
        (
            {"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 90},
            [{"code": "96365", "units": 1}],
        ),
        (
            {"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 91},
            [{"code": "96365", "units": 1}, {"code": "96366", "units": 1}],
        ),
        (
            {"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 150},
            [{"code": "96365", "units": 1}, {"code": "96366", "units": 1}],
        ),
        (
            {"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 151},
            [{"code": "96365", "units": 1}, {"code": "96366", "units": 2}],
        ),
        (
            {"route": "im", "delivered_dose_mg": 35, "infusion_minutes": None},
            [{"code": "96372", "units": 1}],
        ),
    ],
)
def test_the_calculator_answers_the_procedure_lines(nurse, body, lines):
    response = post(signed_in(nurse), CODE, body)

    assert response.status_code == 200, response.content
    assert response.json() == {"lines": lines}
    assert AuditEvent.objects.filter(action="charges.code_session").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"route": "esketamine", "delivered_dose_mg": -1}, "delivered_dose_mg"),
        ({"route": "esketamine", "delivered_dose_mg": 0}, "delivered_dose_mg"),
        ({"route": "esketamine", "delivered_dose_mg": 1e9}, "delivered_dose_mg"),
        ({"route": "esketamine"}, "delivered_dose_mg"),
        ({"route": "iv", "delivered_dose_mg": 35}, "infusion_minutes"),
        ({"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": None}, "infusion_minutes"),
        ({"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": -5}, "infusion_minutes"),
        ({"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": 100000}, "infusion_minutes"),
        ({"route": "oral", "delivered_dose_mg": 35}, "route"),
        ({"delivered_dose_mg": 35}, "route"),
        ({"route": "im", "delivered_dose_mg": "a lot"}, "delivered_dose_mg"),
        ({"route": "im", "delivered_dose_mg": 35, "dose": 1}, "dose"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(nurse, body, field):
    response = post(signed_in(nurse), CODE, body)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_a_422(nurse, number):
    text = f'{{"route": "iv", "delivered_dose_mg": 35, "infusion_minutes": {number}}}'

    response = post_raw(signed_in(nurse), CODE, text)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "infusion_minutes"


def test_a_patient_may_not_use_the_calculator(patient_a):
    response = post(signed_in(patient_a.user), CODE, {"route": "im", "delivered_dose_mg": 1})

    assert response.status_code == 403


# --- a patient's charges and confirmation ------------------------------------------------------


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=3)


def test_a_patients_charges_are_made_from_the_chart_and_listed(front_desk, patient_a, session):
    response = signed_in(front_desk).get(f"/api/v1/patients/{patient_a.pk}/charges")

    assert response.status_code == 200
    body = response.json()
    assert [(line["code"], line["units"]) for line in body["lines"]] == [
        ("G2083", 1),
        ("S0013", 84),
    ]
    assert body["lines"][0]["status"] == "proposed"
    assert body["balance"]["due"] == "0.00"
    assert AuditEvent.objects.filter(action="patient.view", patient_id=patient_a.pk).exists()


def test_another_patients_charges_are_not_found(patient_a, patient_b, session):
    response = signed_in(patient_b.user).get(f"/api/v1/patients/{patient_a.pk}/charges")

    assert response.status_code == 404


def test_a_clinician_confirms_the_codes_and_diagnosis_pointers(prescriber, patient_a, session):
    url = f"/api/v1/sessions/{session.pk}/charges/confirm"

    response = post(signed_in(prescriber), url, {"diagnoses": ["F33.2"]})

    assert response.status_code == 200, response.content
    assert {line["status"] for line in response.json()["lines"]} == {"confirmed"}
    line = ChargeLine.objects.filter(session=session).first()
    line.refresh_from_db()
    assert (line.status, line.diagnoses, line.confirmed_by) == ("confirmed", ["F33.2"], prescriber)
    event = AuditEvent.objects.get(action="charges.confirm")
    assert event.patient_id == patient_a.pk
    again = post(signed_in(prescriber), url, {})
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "session"


@pytest.mark.parametrize(
    "diagnoses", [["F32.9"], [], ["F33.2", "F33.2"], ["F33.2", "A", "B", "C", "D"]]
)
def test_diagnoses_not_on_the_record_are_refused(prescriber, session, diagnoses):
    url = f"/api/v1/sessions/{session.pk}/charges/confirm"

    response = post(signed_in(prescriber), url, {"diagnoses": diagnoses})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "diagnoses"
    assert not ChargeLine.objects.filter(status=ChargeStatus.CONFIRMED).exists()


def test_front_desk_cannot_confirm_codes(front_desk, session):
    url = f"/api/v1/sessions/{session.pk}/charges/confirm"

    response = post(signed_in(front_desk), url, {})

    assert response.status_code == 403
    assert not ChargeLine.objects.filter(status=ChargeStatus.CONFIRMED).exists()


def test_an_outsider_confirming_gets_404(outsider, session):
    response = post(signed_in(outsider), f"/api/v1/sessions/{session.pk}/charges/confirm", {})

    assert response.status_code == 404


def test_a_confirmed_line_is_corrected_by_a_reversal(prescriber, patient_a, session):
    client = signed_in(prescriber)
    post(client, f"/api/v1/sessions/{session.pk}/charges/confirm", {})
    line = ChargeLine.objects.get(session=session, code="S0013")

    response = post(
        client, f"/api/v1/charges/{line.pk}/correct", {"reason": "two devices", "units": 56}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reversal"]["units"] == -84
    assert body["replacement"]["units"] == 56
    assert post(client, f"/api/v1/charges/{line.pk}/correct", {"reason": "x"}).status_code == 409
    assert post(client, "/api/v1/charges/999999/correct", {"reason": "x"}).status_code == 404


# --- payments and the fee schedule ------------------------------------------------------------


def test_the_front_desk_records_a_payment_and_the_balance_follows(
    front_desk, prescriber, patient_a, session, clinic_admin
):
    post(signed_in(clinic_admin), "/api/v1/billing/fee-schedule", {"amounts": {"G2083": "500.00"}})
    FeeSchedule.objects.get(version=2)
    # Lines made after the change carry the new price.
    post(signed_in(prescriber), f"/api/v1/sessions/{session.pk}/charges/confirm", {})

    response = post(
        signed_in(front_desk),
        f"/api/v1/patients/{patient_a.pk}/payments",
        {"amount": "200.00", "method": "card", "received_on": DAY.isoformat()},
    )

    assert response.status_code == 201, response.content
    assert Payment.objects.get().amount == Decimal("200.00")
    assert AuditEvent.objects.filter(action="payment.record", patient_id=patient_a.pk).exists()
    balance = (
        signed_in(front_desk).get(f"/api/v1/patients/{patient_a.pk}/charges").json()["balance"]
    )
    assert balance == {"charged": "500.00", "pending": "0.00", "paid": "200.00", "due": "300.00"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0", "method": "card", "received_on": "2026-03-02"}, "amount"),
        ({"amount": "-5", "method": "card", "received_on": "2026-03-02"}, "amount"),
        ({"amount": "5", "method": "barter", "received_on": "2026-03-02"}, "method"),
        ({"amount": "5", "method": "card", "received_on": "2999-01-01"}, "received_on"),
    ],
)
def test_a_bad_payment_is_refused_naming_the_field(front_desk, patient_a, body, field):
    response = post(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}/payments", body)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Payment.objects.exists()


def test_a_nurse_cannot_record_payments(nurse, patient_a):
    body = {"amount": "5", "method": "card", "received_on": "2026-03-02"}

    assert (
        post(signed_in(nurse), f"/api/v1/patients/{patient_a.pk}/payments", body).status_code == 403
    )


def test_only_a_clinic_admin_changes_prices(nurse, clinic_admin):
    refused = post(signed_in(nurse), "/api/v1/billing/fee-schedule", {"amounts": {"G2082": "1"}})
    response = post(
        signed_in(clinic_admin),
        "/api/v1/billing/fee-schedule",
        {"amounts": {"G2082": "350.00"}, "note": "demo prices"},
    )

    assert refused.status_code == 403
    assert response.status_code == 201
    fees = {fee["code"]: fee["amount"] for fee in response.json()["fees"]}
    assert fees["G2082"] == "350.00"
    assert response.json()["version"] == 2
    current = signed_in(nurse).get("/api/v1/billing/fee-schedule").json()
    assert current["version"] == 2


def test_an_unknown_code_in_a_price_change_is_refused(clinic_admin):
    response = post(
        signed_in(clinic_admin), "/api/v1/billing/fee-schedule", {"amounts": {"99999": "1"}}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "99999"
