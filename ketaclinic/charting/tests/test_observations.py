"""Dissociation (0–10, CADSS-6 items as a clinic option), side effects from the seeds'
vocabulary with severity and action, adverse events (serious: report; esketamine: REMS),
premedication and rescue medication, product and lot."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.charting import medication_service, observation_service
from ketaclinic.charting.models import AdverseEvent, DissociationRating, MedicationGiven, SideEffect
from ketaclinic.charting.tests.session_makers import (
    last_event,
    open_session,
    rems_ready,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=30)


def post(client, session, tail, data):
    return client.post(f"/sessions/{session.pk}/{tail}/", data, HTTP_HX_REQUEST="true")


def test_a_dissociation_rating_is_charted(session, nurse):
    response = post(signed_in(nurse), session, "dissociation", {"score": 4})

    assert response.status_code == 200
    rating = DissociationRating.objects.get(session=session)
    assert (rating.score, rating.recorded_by, rating.cadss_items) == (4, nurse, {})
    assert last_event("session.dissociation").detail["score"] == 4


def test_a_rating_outside_0_to_10_is_refused(session, nurse):
    response = post(signed_in(nurse), session, "dissociation", {"score": 11})

    assert response.status_code == 422
    assert "Rate dissociation from 0 to 10." in response.content.decode()
    assert not DissociationRating.objects.exists()


def test_cadss_items_are_refused_when_the_clinic_does_not_use_them(session, nurse):
    with pytest.raises(ValidationError) as refused:
        observation_service.dissociation_record(
            request=request_by(nurse), session=session, score=3, cadss_items={1: 2}
        )

    assert "does not use the CADSS-6" in refused.value.message_dict["cadss_items"][0]


def test_a_clinic_that_offers_cadss_6_charts_its_items(session, nurse):
    offered = dataclasses.replace(
        observation_service.dissociation_options(),
        cadss_offered=True,
        cadss_answer_min=0,
        cadss_answer_max=4,
    )

    rating = observation_service.dissociation_record(
        request=request_by(nurse),
        session=session,
        score=3,
        cadss_items={1: 2, 22: 0},
        options=offered,
    )

    assert rating.cadss_items == {"1": 2, "22": 0}
    with pytest.raises(ValidationError) as refused:
        observation_service.dissociation_record(
            request=request_by(nurse), session=session, score=3, cadss_items={3: 1}, options=offered
        )
    assert refused.value.message_dict["cadss_3"] == ["CADSS item 3 is not in the CADSS-6."]


def test_a_side_effect_from_the_vocabulary_is_charted(session, nurse):
    response = post(
        signed_in(nurse),
        session,
        "side-effects",
        {"code": "nausea", "severity": "moderate", "action": "Ondansetron 4 mg IV"},
    )

    assert response.status_code == 200
    effect = SideEffect.objects.get(session=session)
    assert (effect.code, effect.severity, effect.action) == (
        "nausea",
        "moderate",
        "Ondansetron 4 mg IV",
    )
    assert "Side effect: Nausea (moderate)." in response.content.decode()


def test_a_side_effect_outside_the_vocabulary_is_refused(session, nurse):
    response = post(
        signed_in(nurse), session, "side-effects", {"code": "hiccups", "severity": "mild"}
    )

    assert response.status_code == 422
    assert not SideEffect.objects.exists()


def test_a_serious_adverse_event_is_flagged_for_reporting(session, nurse):
    post(
        signed_in(nurse),
        session,
        "adverse-events",
        {"description": "Syncope on standing", "serious": "on"},
    )

    event = AdverseEvent.objects.get(session=session)
    assert (event.serious, event.report_required, event.rems_reportable) == (True, True, False)


def test_an_esketamine_adverse_event_is_flagged_for_rems(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse, "esketamine")
    rems_ready(patient_b, prescriber)
    started(session, nurse, prescriber, minutes_ago=30)

    event = observation_service.adverse_event_record(
        request=request_by(nurse), session=session, description="Marked sedation", serious=False
    )

    assert (event.report_required, event.rems_reportable) == (False, True)
    assert last_event("session.adverse_event").detail["rems_reportable"] is True


def test_premedication_and_rescue_medication_are_charted(session, nurse):
    medication_service.medication_give(
        request=request_by(nurse),
        session=session,
        kind="premedication",
        drug="Ondansetron",
        dose="4 mg",
        route="IV",
    )
    with pytest.raises(ValidationError) as refused:
        medication_service.medication_give(
            request=request_by(nurse),
            session=session,
            kind="rescue",
            drug="Labetalol",
            dose="10 mg",
            route="IV",
        )

    assert refused.value.message_dict["reason"] == ["Say why the rescue medication was given."]
    assert MedicationGiven.objects.filter(session=session).count() == 1


def test_product_lot_and_expiry_are_kept_and_an_expired_lot_refused(session, nurse):
    today = timezone.localdate(session.opened_at)
    medication_service.product_record(
        request=request_by(nurse),
        session=session,
        product="Ketamine HCl 50 mg/mL",
        concentration_mg_per_ml=50,
        lot_number="K2231",
        lot_expiry=today + dt.timedelta(days=90),
    )
    with pytest.raises(ValidationError) as refused:
        medication_service.product_record(
            request=request_by(nurse),
            session=session,
            product="Ketamine HCl 50 mg/mL",
            concentration_mg_per_ml=50,
            lot_number="K1999",
            lot_expiry=today - dt.timedelta(days=1),
        )

    assert "expired" in refused.value.message_dict["lot_expiry"][0]
    session.refresh_from_db()
    assert session.lot_number == "K2231"


def test_a_corrected_lot_keeps_the_old_value_in_the_audit_trail(session, nurse):
    expiry = timezone.localdate(session.opened_at) + dt.timedelta(days=90)
    for lot in ("K2231", "K2232"):
        medication_service.product_record(
            request=request_by(nurse),
            session=session,
            product="Ketamine HCl 50 mg/mL",
            concentration_mg_per_ml=50,
            lot_number=lot,
            lot_expiry=expiry,
        )

    assert last_event("session.product").detail["changes"] == {"lot_number": ["K2231", "K2232"]}


def test_observations_wait_for_dosing(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse)

    with pytest.raises(ValidationError):
        observation_service.side_effect_record(
            request=request_by(nurse), session=session, code="nausea", severity="mild"
        )


def test_outsiders_get_404(session, outsider):
    client = signed_in(outsider)

    assert post(client, session, "dissociation", {"score": 2}).status_code == 404
    assert (
        post(client, session, "side-effects", {"code": "nausea", "severity": "mild"}).status_code
        == 404
    )
    assert post(client, session, "adverse-events", {"description": "x"}).status_code == 404
    assert not SideEffect.objects.exists()
