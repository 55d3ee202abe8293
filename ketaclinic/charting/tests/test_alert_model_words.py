"""A stored alert reads in words (its rule's label and finding), and a session knows which
phase a moment falls in, so the advice of an alert raised then fits it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ketaclinic.charting.models import SafetyAlert, TreatmentSession

NOW = timezone.now()


def session(started=None, ended=None):
    return TreatmentSession(opened_at=NOW, dose_started_at=started, dose_ended_at=ended)


def test_a_stored_alert_shows_its_label_and_finding_not_its_code():
    alert = SafetyAlert(code="bp_high", finding="186/112 mmHg (limit 180/110)")

    assert alert.label == "Blood pressure high"
    assert alert.message == "Blood pressure high: 186/112 mmHg (limit 180/110)"


def test_a_moment_before_dosing_during_it_and_after_it_ended():
    start, end = NOW + dt.timedelta(minutes=10), NOW + dt.timedelta(minutes=50)

    assert session().phase_at(NOW) == "before_dosing"
    assert session(start).phase_at(NOW) == "before_dosing"
    assert session(start).phase_at(start) == "dosing"
    assert session(start).phase_at(NOW + dt.timedelta(hours=3)) == "dosing"
    assert session(start, end).phase_at(end) == "observation"
