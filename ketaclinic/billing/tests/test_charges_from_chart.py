"""Each discharged session's charge lines come from what was charted, priced by the fee
schedule, made once whoever looks first; confirmed lines never change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import charges, fee_schedule
from ketaclinic.billing.models import ChargeLine, ChargeStatus, FeeSchedule
from ketaclinic.billing.tests.charge_makers import DAY, esketamine_session, im_session, iv_session
from ketaclinic.charting.tests.session_makers import request_by


def made(session) -> list[tuple[str, int]]:
    charges.charges_ensure(session)
    return [(line.code, line.units) for line in ChargeLine.objects.filter(session=session)]


@pytest.mark.parametrize(
    ("devices", "expected"),
    [
        (1, [("G2082", 1), ("S0013", 28)]),
        (2, [("G2082", 1), ("S0013", 56)]),
        (3, [("G2083", 1), ("S0013", 84)]),
    ],
)
def test_an_esketamine_visit_is_coded_by_the_devices_given(
    devices, expected, patient_a, prescriber, nurse
):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=devices)

    assert made(session) == expected


def test_the_planned_dose_never_decides_the_code(patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=3)
    assert session.planned_dose_mg == 56

    assert made(session)[0] == ("G2083", 1)


def test_esketamine_the_pharmacy_bills_has_no_drug_line(patient_a, prescriber, nurse, clinic_admin):
    fee_schedule.fee_schedule_change(by=clinic_admin, amounts={}, esketamine_supply="pharmacy")
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, devices=2)

    assert made(session) == [("G2082", 1)]


@pytest.mark.parametrize(
    ("minutes", "pause", "expected"),
    [
        (40, None, [("96365", 1), ("J3490", 1)]),
        (90, None, [("96365", 1), ("J3490", 1)]),
        (91, None, [("96365", 1), ("96366", 1), ("J3490", 1)]),
        # 89 minutes running with a 20-minute pause: the pump's time counts, not the wall's.
        (89, (30, 50), [("96365", 1), ("J3490", 1)]),
        (151, None, [("96365", 1), ("96366", 2), ("J3490", 1)]),
    ],
)
def test_an_infusion_is_coded_by_the_minutes_the_pump_ran(
    minutes, pause, expected, patient_a, prescriber, nurse
):
    session = iv_session(patient_a, prescriber, nurse, minutes=minutes, pause=pause)

    assert made(session) == expected


def test_the_ketamine_drug_line_carries_the_delivered_mg_product_lot_and_ndc(
    patient_a, prescriber, nurse, clinic_admin
):
    fee_schedule.fee_schedule_change(by=clinic_admin, amounts={}, ndcs={"J3490": "0409-2051-05"})
    session = iv_session(patient_a, prescriber, nurse, minutes=40, rate_mg_per_min="0.875")
    charges.charges_ensure(session)

    drug = ChargeLine.objects.get(session=session, code="J3490")

    assert drug.drug_mg == Decimal("35.00")
    assert (drug.ndc, drug.product, drug.lot_number) == (
        "0409-2051-05",
        "Ketamine 50 mg/mL",
        "KET-42",
    )


def test_an_im_injection_is_96372_and_its_drug(patient_a, prescriber, nurse):
    session = im_session(patient_a, prescriber, nurse)

    assert made(session) == [("96372", 1), ("J3490", 1)]


def test_a_session_not_yet_discharged_has_no_charges(patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY, discharged=False)

    assert made(session) == []


def test_lines_are_made_once_whoever_asks_and_the_making_is_audited(patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY)

    assert charges.charges_ensure(session) is True
    assert charges.charges_ensure(session) is False
    assert charges.charges_ensure_for_patient(patient_a) == 0
    assert ChargeLine.objects.filter(session=session).count() == 2
    event = AuditEvent.objects.get(action="charges.make")
    assert event.patient_id == patient_a.pk


def test_lines_point_at_the_patients_diagnoses_and_the_rendering_provider(
    patient_a, prescriber, nurse
):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY)
    charges.charges_ensure(session)

    line = ChargeLine.objects.filter(session=session).first()

    assert line.diagnoses == ["F33.2"]
    assert line.rendering_provider == prescriber
    assert line.service_date == DAY
    assert line.place_of_service == "11"
    assert line.status == ChargeStatus.PROPOSED


def test_prices_come_from_the_current_fee_schedule_version(
    patient_a, prescriber, nurse, clinic_admin
):
    first = esketamine_session(patient_a, prescriber, nurse, day=DAY)
    charges.charges_ensure(first)
    schedule = fee_schedule.fee_schedule_change(
        by=clinic_admin, amounts={"G2082": "400.00", "S0013": "10.50"}, note="demo prices"
    )
    second = esketamine_session(
        patient_a, prescriber, nurse, day=DAY.replace(day=9), plan=first.plan
    )
    charges.charges_ensure(second)

    old = ChargeLine.objects.get(session=first, code="G2082")
    new_visit = ChargeLine.objects.get(session=second, code="G2082")
    new_drug = ChargeLine.objects.get(session=second, code="S0013")

    assert old.amount == Decimal("0.00")  # the seed sets no price: the clinic does
    assert old.fee_schedule.version == 1
    assert (new_visit.amount, new_visit.fee_schedule) == (Decimal("400.00"), schedule)
    assert new_drug.amount == Decimal("588.00")  # 56 units x 10.50
    change = AuditEvent.objects.get(action="fee_schedule.change")
    assert change.detail["changed"]["G2082"] == {"from": "0.00", "to": "400.00"}
    assert FeeSchedule.objects.count() == 2


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234", "NaN", "Infinity", "1e12"])
def test_a_fee_that_is_not_an_amount_is_refused_and_nothing_is_written(clinic_admin, amount):
    fee_schedule.current()
    with pytest.raises(ValidationError) as refused:
        fee_schedule.fee_schedule_change(by=clinic_admin, amounts={"G2082": amount})

    assert "G2082" in str(refused.value)
    assert FeeSchedule.objects.count() == 1


def confirmed_line(patient, prescriber, nurse):
    session = esketamine_session(patient, prescriber, nurse, day=DAY)
    charges.charges_confirm(request=request_by(prescriber), session=session, by=prescriber)
    return ChargeLine.objects.filter(session=session).first()


def test_a_confirmed_line_cannot_be_changed_even_in_the_database(patient_a, prescriber, nurse):
    line = confirmed_line(patient_a, prescriber, nurse)

    with pytest.raises(DatabaseError), transaction.atomic():
        ChargeLine.objects.filter(pk=line.pk).update(amount=Decimal("1.00"))
    line.refresh_from_db()
    assert line.amount == Decimal("0.00")


def test_a_confirmed_line_cannot_be_deleted_on_postgresql(patient_a, prescriber, nurse):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps no delete trigger: Django's test flush deletes rows there")
    line = confirmed_line(patient_a, prescriber, nurse)

    with pytest.raises(DatabaseError), transaction.atomic():
        ChargeLine.objects.filter(pk=line.pk).delete()
    assert ChargeLine.objects.filter(pk=line.pk).exists()


def test_a_proposed_line_may_still_change(patient_a, prescriber, nurse):
    session = esketamine_session(patient_a, prescriber, nurse, day=DAY)
    charges.charges_ensure(session)

    assert ChargeLine.objects.filter(session=session).update(modifiers="KX") == 2


def test_a_correction_reverses_the_line_and_proposes_a_new_one(patient_a, prescriber, nurse):
    line = confirmed_line(patient_a, prescriber, nurse)

    reversal, replacement = charges.charge_correct(
        request=request_by(prescriber),
        line=line,
        by=prescriber,
        correction=charges.Correction(code="G2083"),
        reason="third device charted late",
    )

    line.refresh_from_db()
    assert line.status == ChargeStatus.CONFIRMED
    assert line.code == "G2082"
    assert (reversal.reverses, reversal.units, reversal.status) == (line, -1, "confirmed")
    assert reversal.amount == -line.amount
    assert (replacement.code, replacement.status) == ("G2083", "proposed")
    assert AuditEvent.objects.filter(action="charges.correct", patient_id=patient_a.pk).exists()
    with pytest.raises(charges.ChargeConflict):
        charges.charge_correct(
            request=request_by(prescriber),
            line=line,
            by=prescriber,
            correction=charges.Correction(),
            reason="again",
        )
