"""phq9_done_today: the pre-session checklist (issue #5) asks whether today's PHQ-9 is in."""

from __future__ import annotations

import datetime as dt

from ketaclinic.outcomes.checklist import phq9_done_today
from ketaclinic.outcomes.models import Channel
from ketaclinic.outcomes.tests.factories import local, make_response

DAY = dt.date(2026, 3, 9)


def test_a_complete_phq9_that_clinic_day_counts(patient_a, nurse):
    make_response(patient_a, "phq9", total=12, at=local(DAY, 7, 5), by=nurse)

    assert phq9_done_today(patient_a, DAY)
    assert phq9_done_today(patient_a.pk, DAY)


def test_the_day_is_the_clinics_not_utc(patient_a, nurse):
    # 23:30 in New York is the next day in UTC; it still counts for the local day.
    make_response(patient_a, "phq9", total=12, at=local(DAY, 23, 30), by=nurse)

    assert phq9_done_today(patient_a, DAY)
    assert not phq9_done_today(patient_a, DAY + dt.timedelta(days=1))


def test_yesterdays_phq9_does_not_count(patient_a, nurse):
    make_response(patient_a, "phq9", total=12, at=local(DAY - dt.timedelta(days=1), 18), by=nurse)

    assert not phq9_done_today(patient_a, DAY)


def test_an_in_progress_phq9_does_not_count(patient_a):
    make_response(
        patient_a,
        "phq9",
        answers=[1, 1, None, None, None, None, None, None, None],
        at=local(DAY),
        channel=Channel.PORTAL,
    )

    assert not phq9_done_today(patient_a, DAY)


def test_one_entered_in_error_does_not_count(patient_a, nurse):
    response = make_response(patient_a, "phq9", total=12, at=local(DAY), by=nurse)
    response.status, response.error_reason = "entered-in-error", "wrong patient"
    response.save()

    assert not phq9_done_today(patient_a, DAY)


def test_another_instrument_or_patient_does_not_count(patient_a, patient_b, nurse):
    make_response(patient_a, "gad7", total=5, at=local(DAY), by=nurse)
    make_response(patient_b, "phq9", total=5, at=local(DAY), by=nurse)

    assert not phq9_done_today(patient_a, DAY)
