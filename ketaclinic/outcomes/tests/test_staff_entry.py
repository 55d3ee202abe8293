"""Staff enter answers given on paper or by phone, or a clinician's rating: recorded as such."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.models import Channel, Response, ResponseStatus


def enter_url(patient) -> str:
    return reverse("outcomes:enter", kwargs={"patient_id": patient.pk})


def data(code: str, answers: list, channel: str, day: dt.date | None = None) -> dict:
    values = {f"item_{n}": str(v) for n, v in enumerate(answers, start=1) if v is not None}
    return {
        **values,
        "instrument": code,
        "channel": channel,
        "answered_on": (day or timezone.localdate()).isoformat(),
    }


def test_a_paper_form_is_recorded_as_paper_entered_by_the_nurse(patient_a, nurse):
    day = timezone.localdate() - dt.timedelta(days=3)

    response = signed_in(nurse).post(
        enter_url(patient_a), data("phq9", [3, 3, 2, 2, 2, 2, 1, 1, 0], Channel.PAPER, day)
    )

    assert response.status_code == 302
    stored = Response.objects.get()
    assert stored.channel == Channel.PAPER
    assert stored.entered_by == nurse
    assert (stored.status, stored.total, stored.band) == (
        ResponseStatus.COMPLETED,
        16,
        "moderately_severe",
    )
    assert timezone.localdate(stored.submitted_at) == day
    assert AuditEvent.objects.get(action="outcome.response_complete").detail["channel"] == "paper"


def test_a_phone_answer_is_recorded_as_phone(patient_a, prescriber):
    signed_in(prescriber).post(enter_url(patient_a), data("gad7", [1] * 7, Channel.PHONE))

    assert Response.objects.get().get_channel_display() == "Staff, by phone"


def test_the_chart_shows_how_the_answers_were_given(patient_a, nurse):
    client = signed_in(nurse)
    client.post(enter_url(patient_a), data("phq9", [1] * 8 + [0], Channel.PAPER))

    page = client.get(
        reverse("patients:chart_tab", kwargs={"patient_id": patient_a.pk, "tab": "outcomes"})
    )

    assert "Staff, from a paper form" in page.content.decode()
    assert "entered by Nurse" in page.content.decode()


def test_a_clinician_rating_is_an_interview(patient_a, prescriber):
    response = signed_in(prescriber).post(
        enter_url(patient_a), data("madrs", [3] * 10, Channel.INTERVIEW)
    )

    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.channel, stored.total) == (Channel.INTERVIEW, 30)


def test_a_patient_questionnaire_cannot_be_entered_as_an_interview(patient_a, nurse):
    response = signed_in(nurse).post(enter_url(patient_a), data("phq9", [1] * 9, Channel.INTERVIEW))

    assert response.status_code == 422
    assert not Response.objects.exists()


def test_a_paper_form_with_gaps_is_stored_in_progress(patient_a, nurse):
    response = signed_in(nurse).post(
        enter_url(patient_a), data("phq9", [1, 1, 1, None, 1, 1, 1, 1, 0], Channel.PAPER)
    )

    assert response.status_code == 302
    stored = Response.objects.get()
    assert stored.status == ResponseStatus.IN_PROGRESS
    assert stored.total is None
    assert stored.answers[3] is None


def test_answers_from_the_future_are_refused(patient_a, nurse):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = signed_in(nurse).post(
        enter_url(patient_a), data("phq9", [1] * 9, Channel.PAPER, tomorrow)
    )

    assert response.status_code == 422
    assert not Response.objects.exists()
    assert AuditEvent.objects.filter(action="outcome.response", outcome=Outcome.INVALID).exists()


@pytest.mark.parametrize("who", ["front_desk", "clinic_admin"])
def test_front_desk_and_admin_cannot_enter_answers(patient_a, cast, who):
    response = signed_in(cast[who]).post(enter_url(patient_a), data("phq9", [1] * 9, Channel.PAPER))

    assert response.status_code == 403


def test_a_patient_cannot_use_staff_entry_even_for_their_own_record(patient_a):
    response = signed_in(patient_a.user).post(
        enter_url(patient_a), data("phq9", [1] * 9, Channel.PAPER)
    )

    assert response.status_code == 403


def test_marking_a_response_entered_in_error_keeps_it_with_the_reason(patient_a, nurse):
    client = signed_in(nurse)
    client.post(enter_url(patient_a), data("phq9", [1] * 9, Channel.PAPER))
    stored = Response.objects.get()

    client.post(
        reverse(
            "outcomes:response_error", kwargs={"patient_id": patient_a.pk, "response_id": stored.pk}
        ),
        {"reason": "Wrong patient's form"},
    )

    stored.refresh_from_db()
    assert stored.status == ResponseStatus.ENTERED_IN_ERROR
    assert stored.error_reason == "Wrong patient's form"
    assert stored.total == 9


def test_the_api_takes_staff_entries_too(patient_a, nurse):
    import json

    response = signed_in(nurse).post(
        f"/api/v1/patients/{patient_a.pk}/outcomes/responses",
        json.dumps({"instrument": "phq9", "answers": [0] * 9, "channel": "phone"}),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["channel"] == "phone"
    assert Response.objects.get().entered_by == nurse
