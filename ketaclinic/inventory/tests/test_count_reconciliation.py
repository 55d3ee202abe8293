"""A witnessed count sets the safe against the ledger; any difference is flagged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import PASSWORD, signed_in
from ketaclinic.inventory import services
from ketaclinic.inventory.models import EntryKind, LedgerEntry

from .helpers import plan_for, receive, request_by, session_on


@pytest.fixture
def lot(nurse):
    # 3 vials of 500 mg in 10 mL (50 mg/mL).
    return receive(nurse, vials=3).lot


def test_a_count_that_matches_is_not_flagged(lot, nurse, prescriber):
    entry, result = services.count_record(
        request=request_by(nurse), lot=lot, full_vials=3, partial_ml=0, witness=prescriber
    )

    assert not result.flagged
    entry.refresh_from_db()
    assert (entry.quantity_mg, entry.expected_mg, entry.discrepancy_mg) == (1500, 1500, 0)
    assert not entry.flagged


def test_a_short_count_is_flagged_with_the_missing_amount(lot, nurse, prescriber):
    entry, result = services.count_record(
        request=request_by(nurse),
        lot=lot,
        full_vials=2,
        partial_ml=Decimal("8.5"),
        witness=prescriber,
        reason="weekly count",
    )

    assert result.flagged
    assert "75 mg less than expected" in result.message
    entry.refresh_from_db()
    assert entry.quantity_mg == Decimal("1425.00")
    assert entry.discrepancy_mg == Decimal("-75.00")
    assert entry.flagged
    event = AuditEvent.objects.filter(action="inventory.count").get()
    assert event.detail["flagged"] is True
    assert event.detail["discrepancy_mg"] == "-75.00"


def test_drug_drawn_for_a_session_is_not_expected_in_the_safe(lot, nurse, prescriber, patient_a):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    services.draw_record(request=request_by(nurse), session=session, lot=lot, quantity_mg=500)

    _, result = services.count_record(
        request=request_by(nurse), lot=lot, full_vials=2, partial_ml=0, witness=prescriber
    )

    assert not result.flagged
    assert [d.outstanding_mg for d in result.open_draws] == [500]


def test_a_count_needs_a_witness_other_than_the_counter(lot, nurse):
    with pytest.raises(ValidationError) as refused:
        services.count_record(
            request=request_by(nurse), lot=lot, full_vials=3, partial_ml=0, witness=nurse
        )
    assert "witness" in refused.value.message_dict
    assert not LedgerEntry.objects.counts().exists()


def test_a_partial_vial_larger_than_a_vial_is_refused(lot, nurse, prescriber):
    with pytest.raises(ValidationError) as refused:
        services.count_record(
            request=request_by(nurse), lot=lot, full_vials=1, partial_ml=11, witness=prescriber
        )
    assert "partial_ml" in refused.value.message_dict


def test_the_count_page_flags_a_discrepancy_and_the_counts_list_shows_it(lot, clinic_admin, nurse):
    client = signed_in(clinic_admin)
    response = client.post(
        f"/inventory/lots/{lot.pk}/count/",
        {"full_vials": "2", "partial_ml": "", "witness": nurse.pk, "witness_password": PASSWORD},
        follow=True,
    )

    assert response.status_code == 200
    assert "Discrepancy" in response.content.decode()
    entry = LedgerEntry.objects.get(kind=EntryKind.COUNT)
    assert (entry.by, entry.witness, entry.discrepancy_mg) == (clinic_admin, nurse, -500)

    listing = client.get("/inventory/counts/?flagged=1").content.decode()
    assert lot.lot_number in listing
    assert "-500 mg" in listing
