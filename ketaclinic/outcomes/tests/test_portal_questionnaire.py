"""A patient answers on the portal: what is due, gaps saved as in progress, history in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.models import (
    Channel,
    MeasurementTask,
    Response,
    ResponseStatus,
    TaskStatus,
)
from ketaclinic.outcomes.tests.factories import add_prescriber, make_plan, scores, today

ANSWER = reverse("questionnaires:answer", kwargs={"code": "phq9"})
HOME = reverse("questionnaires:home")


def form(answers: list[int | None], action: str = "submit") -> dict:
    data = {f"item_{n}": str(v) for n, v in enumerate(answers, start=1) if v is not None}
    data["action"] = action
    return data


@pytest.fixture
def client(patient_a):
    return signed_in(patient_a.user)


def test_complete_answers_are_scored_and_recorded_as_the_patient_on_the_portal(client, patient_a):
    response = client.post(ANSWER, form([2, 2, 2, 2, 2, 2, 1, 1, 0]))

    stored = Response.objects.get(patient=patient_a)
    assert response.status_code == 302
    assert response.url == reverse("questionnaires:done", kwargs={"response_id": stored.pk})
    assert stored.status == ResponseStatus.COMPLETED
    assert (stored.total, stored.band, stored.flags) == (14, "moderate", [])
    assert stored.channel == Channel.PORTAL
    assert stored.entered_by == patient_a.user
    assert stored.submitted_at is not None
    event = AuditEvent.objects.get(action="outcome.response_complete")
    assert event.patient_id == patient_a.pk
    assert event.detail["total"] == 14


def test_the_confirmation_says_the_score_in_plain_words(client, patient_a):
    client.post(ANSWER, form([1] * 8 + [0]))
    done = client.get(
        reverse("questionnaires:done", kwargs={"response_id": Response.objects.get().pk})
    )

    assert done.status_code == 200
    assert "Your score was 8 out of 27, in the “mild” range." in done.content.decode()
    assert "crisis-resources" not in done.content.decode()


def test_incomplete_answers_are_stored_as_in_progress_and_not_scored(client, patient_a):
    response = client.post(ANSWER, form([1, 2, 1, None, None, None, None, None, None], "later"))

    stored = Response.objects.get(patient=patient_a)
    assert response.status_code == 302
    assert stored.status == ResponseStatus.IN_PROGRESS
    assert stored.answers == [1, 2, 1, None, None, None, None, None, None]
    assert stored.total is None
    assert stored.band == ""
    assert stored.submitted_at is None
    assert AuditEvent.objects.get(action="outcome.response_progress").detail["missing_items"] == [
        4,
        5,
        6,
        7,
        8,
        9,
    ]


def test_sending_with_gaps_saves_them_and_names_the_questions_left(client, patient_a):
    response = client.post(ANSWER, form([1, 1, 1, 1, 1, 1, 1, None, None]))

    assert response.status_code == 422
    assert "Please answer questions 8, 9 to finish" in response.content.decode()
    assert Response.objects.get(patient=patient_a).status == ResponseStatus.IN_PROGRESS


def test_coming_back_continues_the_same_questionnaire_and_completes_it(client, patient_a):
    client.post(ANSWER, form([1, 2, 1, None, None, None, None, None, None], "later"))
    page = client.get(ANSWER)
    assert 'value="2" checked' in page.content.decode() or "checked" in page.content.decode()

    client.post(ANSWER, form([1, 2, 1, 0, 0, 0, 0, 0, 0]))

    stored = Response.objects.get(patient=patient_a)
    assert stored.status == ResponseStatus.COMPLETED
    assert stored.total == 4


def test_the_patient_sees_what_is_due_from_the_plan_schedule(client, patient_a, prescriber):
    add_prescriber(patient_a, prescriber)
    make_plan(patient_a, prescriber, start=today() + dt.timedelta(days=2), status="active")

    page = client.get(HOME)

    assert page.status_code == 200
    assert MeasurementTask.objects.filter(patient=patient_a).exists()
    assert "Patient Health Questionnaire-9 (PHQ-9)" in page.content.decode()
    assert "please answer by" in page.content.decode()
    home = client.get(reverse("portal"))
    assert "Questionnaires due" in home.content.decode()


def test_answering_fulfils_the_open_measures_whose_window_has_opened(client, patient_a, prescriber):
    make_plan(patient_a, prescriber, start=today() + dt.timedelta(days=2), status="active")
    client.get(HOME)
    baseline = MeasurementTask.objects.get(
        patient=patient_a, instrument_id="phq9", reason="baseline"
    )

    client.post(ANSWER, form([1] * 8 + [0]))

    baseline.refresh_from_db()
    assert baseline.status == TaskStatus.DONE
    assert baseline.response == Response.objects.get(patient=patient_a)
    later = MeasurementTask.objects.filter(patient=patient_a, opens_on__gt=today())
    assert later.exists()
    assert all(t.status == TaskStatus.OPEN for t in later)


def test_the_history_reads_in_plain_words(client, patient_a, nurse):
    scores(
        patient_a,
        "phq9",
        nurse,
        (today() - dt.timedelta(days=30), 20),
        (today() - dt.timedelta(days=2), 8),
    )

    page = client.get(HOME).content.decode()

    assert (
        "Your score was 8 out of 27, in the “mild” range. That is 12 points lower than on" in page
    )
    assert "Your score was 20 out of 27" in page


def test_staff_do_not_use_the_patient_pages(nurse):
    assert signed_in(nurse).get(HOME).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get(HOME)

    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_clinician_rated_instruments_are_not_offered_to_patients(client):
    assert client.get(reverse("questionnaires:answer", kwargs={"code": "madrs"})).status_code == 404
