"""Readings from a monitor run through the clinic's vital-sign policy as they are stored:
an alert a reading newly meets is raised (and answered), an alert already open is not raised
again, and a sustained rule counts readings across separate requests."""

from __future__ import annotations

import pytest

from ketaclinic.charting.models import SafetyAlert
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)


@pytest.fixture
def floor(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)
    return session, token


def codes(response) -> list[str]:
    return [alert["code"] for alert in response.json()["alerts"]]


def test_unremarkable_readings_raise_nothing(floor):
    session, token = floor

    response = post_vitals(session.pk, token, {"readings": [reading(m) for m in (10, 5, 0)]})

    assert response.status_code == 201
    assert codes(response) == []
    assert not SafetyAlert.objects.exists()


@pytest.mark.parametrize(
    ("values", "code", "level"),
    [
        ({"systolic_mmhg": 180}, "bp_high", "warning"),
        ({"diastolic_mmhg": 110, "systolic_mmhg": 150}, "bp_high", "warning"),
        ({"systolic_mmhg": 200, "diastolic_mmhg": 100}, "bp_critical", "critical"),
        ({"heart_rate_bpm": 121}, "tachycardia", "warning"),
        ({"heart_rate_bpm": 49}, "bradycardia", "warning"),
        ({"spo2_pct": 91}, "hypoxemia", "warning"),
        ({"spo2_pct": 87}, "severe_hypoxemia", "critical"),
        ({"resp_rate_per_min": 7}, "respiratory_depression", "critical"),
    ],
)
def test_a_reading_over_a_threshold_raises_its_alert(floor, values, code, level):
    session, token = floor

    response = post_vitals(session.pk, token, reading(1, **values))

    assert codes(response) == [code]
    alert = SafetyAlert.objects.get()
    assert (alert.code, alert.level, alert.is_open) == (code, level, True)
    assert alert.reading.session_id == session.pk
    assert alert.basis
    assert alert.action
    assert response.json()["alerts"][0]["basis"] == alert.basis


def test_a_reading_just_inside_the_thresholds_raises_nothing(floor):
    session, token = floor
    edge = reading(
        1,
        systolic_mmhg=179,
        diastolic_mmhg=109,
        heart_rate_bpm=120,
        spo2_pct=92,
        resp_rate_per_min=8,
    )

    assert codes(post_vitals(session.pk, token, edge)) == []


def test_high_bp_twice_five_minutes_apart_across_two_requests_is_sustained(floor):
    session, token = floor

    first = post_vitals(session.pk, token, reading(6, systolic_mmhg=186, diastolic_mmhg=104))
    second = post_vitals(session.pk, token, reading(1, systolic_mmhg=184, diastolic_mmhg=102))

    assert codes(first) == ["bp_high"]
    assert codes(second) == ["bp_high_sustained"]
    assert second.json()["alerts"][0]["level"] == "critical"
    assert sorted(SafetyAlert.objects.values_list("code", flat=True)) == [
        "bp_high",
        "bp_high_sustained",
    ]


def test_an_open_alert_is_not_raised_again(floor):
    session, token = floor
    post_vitals(session.pk, token, reading(3, spo2_pct=90))

    again = post_vitals(session.pk, token, reading(2, spo2_pct=89))

    assert codes(again) == []
    assert SafetyAlert.objects.filter(code="hypoxemia").count() == 1


def test_alerts_in_one_batch_are_raised_at_the_reading_that_met_them(floor):
    session, token = floor
    body = {
        "readings": [
            reading(12),
            reading(10, systolic_mmhg=190, diastolic_mmhg=100),
            reading(4, systolic_mmhg=188, diastolic_mmhg=98),
            reading(2, spo2_pct=86),
        ]
    }

    response = post_vitals(session.pk, token, body)

    assert codes(response) == ["bp_high", "bp_high_sustained", "severe_hypoxemia"]
    raised = {a.code: a.reading.spo2_pct for a in SafetyAlert.objects.select_related("reading")}
    assert raised["severe_hypoxemia"] == 86
