"""The superbill (print view and PDF) carries every field REFERENCE.md 8.1 lists; the charges
export is a CSV for the billing service, for billing staff only, audited and never cached."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import override_settings

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import charges, fee_schedule
from ketaclinic.billing.models import ChargeStatus, Payment, ProviderProfile
from ketaclinic.billing.tests.charge_makers import DAY, esketamine_session
from ketaclinic.charting.tests.session_makers import request_by
from ketaclinic.conftest import signed_in

PRACTICE = {
    "CLINIC_NAME": "Harbor Ketamine Clinic",
    "PRACTICE_ADDRESS": "1 Harbor Way, Portland, ME 04101",
    "PRACTICE_NPI": "1234567893",
    "PRACTICE_TAX_ID": "12-3456789",
}


@pytest.fixture
def confirmed(patient_a, prescriber, nurse, clinic_admin, front_desk):
    patient_a.address, patient_a.city = "5 Elm St", "Portland"
    patient_a.save()
    ProviderProfile.objects.create(user=prescriber, npi="1987654320")
    fee_schedule.fee_schedule_change(by=clinic_admin, amounts={"G2083": "450.00", "S0013": "9.00"})
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=3)
    charges.charges_confirm(request=request_by(prescriber), session=session, by=prescriber)
    Payment.objects.create(
        patient=patient_a, amount="100.00", method="card", received_on=DAY, recorded_by=front_desk
    )
    return session


@override_settings(**PRACTICE)
def test_the_print_view_carries_every_superbill_field(front_desk, patient_a, prescriber, confirmed):
    response = signed_in(front_desk).get(f"/billing/sessions/{confirmed.pk}/superbill/")

    assert response.status_code == 200
    text = response.content.decode()
    for expected in [
        "Harbor Ketamine Clinic",
        "1 Harbor Way",
        "1234567893",
        "12-3456789",
        prescriber.display_name,
        "1987654320",
        patient_a.full_name,
        patient_a.date_of_birth.strftime("%Y-%m-%d"),
        "5 Elm St",
        "2026-03-02",
        "11 (Office)",
        "F33.2",
        "G2083",
        "S0013",
        "84",
        "450.00",
        "756.00",  # 84 x 9.00
        "1206.00",  # total
        "100.00",  # paid
        "Signature",
    ]:
        assert expected in text, expected
    assert "G2082" not in text
    assert AuditEvent.objects.filter(action="superbill.view", patient_id=patient_a.pk).exists()


@override_settings(**PRACTICE)
def test_the_pdf_carries_the_codes_and_the_practice(front_desk, patient_a, confirmed):
    response = signed_in(front_desk).get(f"/billing/sessions/{confirmed.pk}/superbill.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"%PDF")
    for expected in (b"G2083", b"S0013", b"F33.2", b"1234567893", b"Amount paid: 100.00"):
        assert expected in body, expected
    assert AuditEvent.objects.filter(action="superbill.pdf", patient_id=patient_a.pk).exists()


def test_a_date_range_superbill_lists_the_sessions_in_it(front_desk, patient_a, confirmed):
    url = f"/billing/patients/{patient_a.pk}/superbill/"
    client = signed_in(front_desk)

    inside = client.get(url, {"from": "2026-03-01", "to": "2026-03-31"})
    outside = client.get(url, {"from": "2026-04-01", "to": "2026-04-30"})
    bad = client.get(url, {"from": "2026-04-01", "to": "yesterday"})

    assert inside.status_code == 200
    assert "G2083" in inside.content.decode()
    assert "G2083" not in outside.content.decode()
    assert bad.status_code == 422
    assert "to" in bad.content.decode()


def test_unconfirmed_lines_are_counted_not_billed(front_desk, patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=2)

    text = signed_in(front_desk).get(f"/billing/sessions/{session.pk}/superbill/").content.decode()

    assert "2 lines await" in text
    assert "No confirmed services" in text


def test_a_clinician_confirms_from_the_superbill_page(prescriber, patient_a, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=2)
    client = signed_in(prescriber)
    client.get(f"/billing/sessions/{session.pk}/superbill/")

    response = client.post(
        f"/billing/sessions/{session.pk}/charges/confirm/", {"diagnoses": ["F33.2"]}
    )

    assert response.status_code == 302
    assert set(session.charge_lines.values_list("status", flat=True)) == {ChargeStatus.CONFIRMED}
    refused = client.post(f"/billing/sessions/{session.pk}/charges/confirm/", {"diagnoses": []})
    assert refused.status_code == 409


def test_another_patient_cannot_open_a_superbill(patient_b, confirmed):
    client = signed_in(patient_b.user)

    assert client.get(f"/billing/sessions/{confirmed.pk}/superbill/").status_code == 404
    assert client.get(f"/billing/sessions/{confirmed.pk}/superbill.pdf").status_code == 404


def test_the_export_is_a_csv_of_the_range_for_billing_staff(front_desk, patient_a, confirmed):
    response = signed_in(front_desk).get(
        "/billing/charges/export.csv", {"from": "2026-03-01", "to": "2026-03-31"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["code"], row["units"], row["status"]) for row in rows] == [
        ("G2083", "1", "confirmed"),
        ("S0013", "84", "confirmed"),
    ]
    assert rows[0]["patient_mrn"] == patient_a.mrn
    assert rows[0]["diagnoses"] == "F33.2"
    event = AuditEvent.objects.get(action="charges.export")
    assert event.detail["lines"] == 2


def test_the_export_makes_lines_for_sessions_nobody_opened_yet(
    front_desk, patient_a, prescriber, nurse
):
    esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=2)

    response = signed_in(front_desk).get(
        "/billing/charges/export.csv", {"from": "2026-03-02", "to": "2026-03-02"}
    )

    assert "G2082" in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "prescriber", "therapist"])
def test_clinicians_cannot_export_charges(cast, who):
    response = signed_in(cast[who]).get(
        "/billing/charges/export.csv", {"from": "2026-03-01", "to": "2026-03-31"}
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-03-01"},
        {"from": "2026-03-31", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-03-01"},
        {"from": "x", "to": "2026-03-01"},
    ],
)
def test_a_bad_export_range_is_a_422(clinic_admin, query):
    response = signed_in(clinic_admin).get("/billing/charges/export.csv", query)

    assert response.status_code == 422


def test_a_patient_cannot_export(patient_a):
    response = signed_in(patient_a.user).get(
        "/billing/charges/export.csv", {"from": "2026-03-01", "to": "2026-03-31"}
    )

    assert response.status_code == 403


def test_the_charges_tab_lists_lines_balance_and_superbill_links(front_desk, patient_a, confirmed):
    response = signed_in(front_desk).get(f"/patients/{patient_a.pk}/tab/charges/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "G2083" in text
    assert f"/billing/sessions/{confirmed.pk}/superbill/" in text
    assert "1106.00" in text  # 1206.00 charged less 100.00 paid
