"""Receiving opens a lot, or adds a further delivery of the same lot at the same strength."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.inventory import services
from ketaclinic.inventory.models import LedgerEntry, Lot

from .helpers import on_hand, receive, request_by


def test_a_first_delivery_opens_the_lot(nurse):
    entry = receive(nurse, vials=4, lot_number="A100")

    lot = Lot.objects.get()
    assert (lot.lot_number, lot.vials_received, lot.received_by) == ("A100", 4, nurse)
    assert entry.quantity_mg == 2000
    assert on_hand(lot) == 2000
    event = AuditEvent.objects.filter(action="inventory.receive").get()
    assert event.detail["vials"] == 4
    assert event.object_id == str(entry.pk)


def test_a_further_delivery_of_the_same_lot_adds_to_it(nurse):
    receive(nurse, vials=4, lot_number="A100")
    receive(nurse, vials=2, lot_number="A100")

    lot = Lot.objects.get()
    assert on_hand(lot) == 3000
    assert LedgerEntry.objects.filter(lot=lot).count() == 2


def test_a_further_delivery_at_another_strength_is_refused(nurse):
    receive(nurse, vials=4, lot_number="A100")
    with pytest.raises(ValidationError) as refused:
        receive(nurse, vials=1, lot_number="A100", mg_per_vial="100")
    assert "mg_per_vial" in refused.value.message_dict
    assert LedgerEntry.objects.count() == 1


def test_an_expired_lot_is_not_received(nurse):
    with pytest.raises(ValidationError) as refused:
        services.lot_receive(
            request=request_by(nurse),
            drug="racemic ketamine",
            product="Ketamine 50 mg/mL",
            supplier="S",
            lot_number="OLD1",
            mg_per_vial=Decimal(500),
            ml_per_vial=Decimal(10),
            vials=1,
            expires_on=timezone.localdate() - dt.timedelta(days=1),
        )
    assert "expires_on" in refused.value.message_dict
    assert not Lot.objects.exists()


def test_a_quantity_finer_than_a_hundredth_of_a_mg_is_refused(nurse):
    with pytest.raises(ValidationError) as refused:
        receive(nurse, mg_per_vial="500.001")
    assert "mg_per_vial" in refused.value.message_dict
