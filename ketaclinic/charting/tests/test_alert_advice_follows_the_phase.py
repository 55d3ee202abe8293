"""A reading charted in observation, after dosing ended, raises an alert whose advice fits
that phase: nothing about pausing or stopping an infusion that is no longer running."""

from __future__ import annotations

import datetime as dt

from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.charting import vitals_service
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tests.floor import make_chairs, make_session


def request_by(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def chart(session, nurse, **values):
    _reading, alerts = vitals_service.vitals_enter(
        request=request_by(nurse), session=session, values=values, at=timezone.now()
    )
    return alerts


def test_a_critical_alert_in_observation_does_not_advise_stopping_the_infusion(
    prescriber, nurse, patient_a
):
    (chair,) = make_chairs(1)
    session = make_session(
        patient=patient_a,
        prescriber=prescriber,
        nurse=nurse,
        chair=chair,
        status=SessionStatus.OBSERVATION,
        dose_started_minutes_ago=70,
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        dose_ended_at=timezone.now() - dt.timedelta(minutes=30)
    )
    session.refresh_from_db()

    (alert,) = chart(session, nurse, spo2_pct=85, heart_rate_bpm=80)

    assert alert.code == "severe_hypoxemia"
    assert "infusion" not in alert.action
    assert "airway support" in alert.action


def test_a_critical_alert_while_dosing_advises_stopping_the_infusion(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)

    (alert,) = chart(session, nurse, spo2_pct=85, heart_rate_bpm=80)

    assert alert.code == "severe_hypoxemia"
    assert "stop the infusion" in alert.action
