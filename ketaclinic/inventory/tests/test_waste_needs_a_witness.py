"""Waste of a controlled substance is witnessed by a second clinician, who signs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import PASSWORD, signed_in
from ketaclinic.inventory import services
from ketaclinic.inventory.models import EntryKind, LedgerEntry

from .helpers import chart_infusion, on_hand, plan_for, receive, request_by, session_on


@pytest.fixture
def drawn(patient_a, prescriber, nurse):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    chart_infusion(session, rate="0.5", minutes=40)
    lot = receive(nurse, vials=1).lot
    return services.draw_record(
        request=request_by(nurse), session=session, lot=lot, quantity_mg=Decimal(50)
    )


def test_waste_without_a_witness_is_refused_and_nothing_is_written(drawn, nurse):
    with pytest.raises(ValidationError) as refused:
        services.waste_record(
            request=request_by(nurse), draw=drawn, quantity_mg=Decimal(5), witness=None
        )

    assert "witness" in refused.value.message_dict
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()
    event = AuditEvent.objects.filter(action="inventory.waste").get()
    assert event.outcome == Outcome.INVALID


def test_the_person_wasting_cannot_witness_their_own_waste(drawn, nurse):
    with pytest.raises(ValidationError, match="someone other"):
        services.waste_record(
            request=request_by(nurse), draw=drawn, quantity_mg=Decimal(5), witness=nurse
        )
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()


def test_a_front_desk_user_cannot_witness(drawn, nurse, front_desk):
    with pytest.raises(ValidationError, match="may not witness"):
        services.waste_record(
            request=request_by(nurse), draw=drawn, quantity_mg=Decimal(5), witness=front_desk
        )


def test_a_witnessed_waste_of_the_rest_of_a_draw_is_logged(drawn, nurse, prescriber):
    entry = services.waste_record(
        request=request_by(nurse),
        draw=drawn,
        quantity_mg=Decimal(30),
        witness=prescriber,
        reason="unused rest",
    )

    entry.refresh_from_db()
    assert (entry.kind, entry.witness, entry.by, entry.session) == (
        EntryKind.WASTE,
        prescriber,
        nurse,
        drawn.session,
    )
    assert services.draw_outstanding(drawn) == 20
    event = AuditEvent.objects.filter(action="inventory.waste").get()
    assert event.detail["witness"] == "prescriber"
    assert event.patient_id == drawn.session.patient_id


def test_stock_waste_needs_a_reason(nurse, prescriber):
    lot = receive(nurse, vials=1).lot
    with pytest.raises(ValidationError) as refused:
        services.waste_record(
            request=request_by(nurse), lot=lot, quantity_mg=Decimal(500), witness=prescriber
        )
    assert "reason" in refused.value.message_dict
    assert on_hand(lot) == 500


def test_the_waste_page_needs_the_witness_to_sign_with_their_password(drawn, nurse, prescriber):
    client = signed_in(nurse)
    url = f"/inventory/sessions/{drawn.session_id}/waste/"
    form = {"draw": drawn.pk, "quantity_mg": "10", "witness": prescriber.pk}

    wrong = client.post(url, form | {"witness_password": "not-it"})
    assert wrong.status_code == 422
    assert "not the witness" in wrong.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.WASTE).exists()

    right = client.post(url, form | {"witness_password": PASSWORD})
    assert right.status_code == 302
    assert LedgerEntry.objects.get(kind=EntryKind.WASTE).witness == prescriber


def test_the_waste_page_does_not_offer_the_user_as_their_own_witness(drawn, nurse):
    page = signed_in(nurse).get(f"/inventory/sessions/{drawn.session_id}/waste/")
    assert page.status_code == 200
    witnesses = page.context["form"].fields["witness"].queryset
    assert nurse not in witnesses
