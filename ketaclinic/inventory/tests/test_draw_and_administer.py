"""Draws are for a session of the same drug from a usable lot; what is logged as given
agrees with the session's administration record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.charting.models import SessionStatus
from ketaclinic.inventory import services
from ketaclinic.inventory.models import Drug, EntryKind, LedgerEntry, Lot

from .helpers import (
    chart_bolus,
    chart_devices,
    chart_infusion,
    on_hand,
    plan_for,
    receive,
    request_by,
    session_on,
)


@pytest.fixture
def plan(patient_a, prescriber):
    return plan_for(patient_a, prescriber)


@pytest.fixture
def session(plan, nurse):
    return session_on(plan, nurse)


def draw(session, lot, nurse, mg="50"):
    return services.draw_record(
        request=request_by(nurse), session=session, lot=lot, quantity_mg=Decimal(mg)
    )


def test_a_draw_leaves_the_safe_and_is_outstanding_for_the_session(session, nurse):
    lot = receive(nurse, vials=1).lot

    entry = draw(session, lot, nurse, "42.5")

    assert on_hand(lot) == Decimal("457.5")
    log = services.session_log(session)
    assert [d.outstanding_mg for d in log.open_draws] == [Decimal("42.5")]
    assert entry.session == session


def test_drawing_more_than_the_lot_holds_is_refused(session, nurse):
    lot = receive(nurse, vials=1).lot
    with pytest.raises(ValidationError, match="would leave it negative"):
        draw(session, lot, nurse, "500.01")
    assert on_hand(lot) == 500


def test_an_esketamine_lot_cannot_be_drawn_for_a_racemic_session(session, nurse):
    lot = receive(
        nurse, drug=Drug.ESKETAMINE, product="Spravato 28 mg", mg_per_vial="28", ml_per_vial="0.2"
    ).lot
    with pytest.raises(ValidationError) as refused:
        draw(session, lot, nurse, "28")
    assert "lot" in refused.value.message_dict


def test_an_expired_lot_cannot_be_drawn(session, nurse):
    # Received a year ago, expired yesterday (the service refuses to receive expired stock,
    # and lots are never changed, so the rows are written as they would have been then).
    lot = Lot.objects.create(
        drug=Drug.RACEMIC_KETAMINE,
        product="Ketamine 50 mg/mL",
        supplier="S",
        lot_number="OLD1",
        mg_per_vial=Decimal(500),
        ml_per_vial=Decimal(10),
        vials_received=1,
        expires_on=timezone.localdate() - dt.timedelta(days=1),
        received_by=nurse,
    )
    LedgerEntry.objects.create(lot=lot, kind=EntryKind.RECEIVE, quantity_mg=500, vials=1, by=nurse)

    with pytest.raises(ValidationError, match="expired"):
        draw(session, lot, nurse, "10")
    assert on_hand(lot) == 500


def test_a_closed_session_takes_no_draw(plan, nurse):
    closed = session_on(plan, nurse, status=SessionStatus.DISCHARGED)
    lot = receive(nurse, vials=1).lot
    with pytest.raises(ValidationError) as refused:
        draw(closed, lot, nurse)
    assert "session" in refused.value.message_dict


def test_administering_without_a_quantity_logs_what_the_chart_delivered(session, nurse):
    chart_infusion(session, rate="0.9", minutes=40)  # 36 mg
    drawn = draw(session, receive(nurse, vials=1).lot, nurse)

    entry = services.administer_record(request=request_by(nurse), draw=drawn)

    assert entry.quantity_mg == 36
    assert services.draw_outstanding(drawn) == 14


def test_more_than_the_chart_delivered_cannot_be_logged_as_given(session, nurse):
    chart_bolus(session, "30")
    drawn = draw(session, receive(nurse, vials=1).lot, nurse)
    services.administer_record(request=request_by(nurse), draw=drawn, quantity_mg=Decimal(20))

    with pytest.raises(ValidationError, match="at most 10 mg more"):
        services.administer_record(request=request_by(nurse), draw=drawn, quantity_mg=Decimal(11))
    assert LedgerEntry.objects.filter(kind=EntryKind.ADMINISTER).count() == 1


def test_nothing_can_be_logged_as_given_before_the_chart_shows_a_dose(session, nurse):
    drawn = draw(session, receive(nurse, vials=1).lot, nurse)
    with pytest.raises(ValidationError, match="nothing delivered"):
        services.administer_record(request=request_by(nurse), draw=drawn)


def test_esketamine_devices_count_as_delivered(plan, nurse, patient_b, prescriber):
    eske = session_on(plan_for(patient_b, prescriber, "esketamine"), nurse)
    chart_devices(eske, 2)
    lot = receive(
        nurse,
        drug=Drug.ESKETAMINE,
        product="Spravato 28 mg nasal device",
        mg_per_vial="28",
        ml_per_vial="0.2",
        vials=6,
    ).lot
    drawn = draw(eske, lot, nurse, "56")

    entry = services.administer_record(request=request_by(nurse), draw=drawn)

    assert entry.quantity_mg == 56
    assert services.session_log(eske).open_draws == []
