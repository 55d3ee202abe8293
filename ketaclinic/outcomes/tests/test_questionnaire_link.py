"""A reminder's questionnaire link works once, for a limited time, for one patient only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes import services
from ketaclinic.outcomes.models import Channel, QuestionnaireLink, Response, token_digest
from ketaclinic.outcomes.tests.factories import make_response


class StaffRequest:
    def __init__(self, user):
        self.user = user
        self.META: dict = {}

    def get_full_path(self) -> str:
        return ""


def link_url(token: str) -> str:
    return reverse("questionnaires:link", kwargs={"token": token})


@pytest.fixture
def token(patient_a, nurse):
    return services.link_create(request=StaffRequest(nurse), patient=patient_a)


def test_the_link_opens_the_patients_questionnaires_without_a_login(token, patient_a):
    client = Client()

    response = client.get(link_url(token))

    assert response.status_code == 302
    assert response.url == reverse("questionnaires:home")
    assert client.get(response.url).status_code == 200
    assert QuestionnaireLink.objects.get().used_at is not None


def test_answers_through_the_link_are_the_patients_own_on_the_portal(token, patient_a):
    client = Client()
    client.get(link_url(token))

    client.post(
        reverse("questionnaires:answer", kwargs={"code": "gad7"}),
        {**{f"item_{n}": "1" for n in range(1, 8)}, "action": "submit"},
    )

    stored = Response.objects.get()
    assert stored.patient == patient_a
    assert stored.channel == Channel.PORTAL
    assert stored.entered_by is None
    assert AuditEvent.objects.get(action="outcome.response_complete").actor_username.startswith(
        "patient link"
    )


def test_a_second_use_is_refused(token):
    Client().get(link_url(token))

    again = Client().get(link_url(token))

    assert again.status_code == 410
    assert "This link no longer works" in again.content.decode()
    refused = AuditEvent.objects.get(action="outcome.link_refused")
    assert (refused.outcome, refused.detail["reason"]) == (Outcome.REFUSED, "already used")


def test_an_expired_link_is_refused(token):
    QuestionnaireLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = Client().get(link_url(token))

    assert response.status_code == 410
    assert AuditEvent.objects.get(action="outcome.link_refused").detail["reason"] == "expired"
    assert QuestionnaireLink.objects.get().used_at is None


def test_an_unknown_token_is_refused(db):
    assert Client().get(link_url("not-a-token")).status_code == 410


def test_only_a_digest_of_the_token_is_stored(token):
    link = QuestionnaireLink.objects.get()

    assert link.token_hash == token_digest(token)
    assert token not in link.token_hash


def test_the_link_session_shows_questionnaires_only_not_the_record(token):
    client = Client()
    client.get(link_url(token))

    assert client.get(reverse("portal")).status_code == 302  # to the login page
    assert client.get("/patients/").status_code == 302


def test_the_link_session_expires(token, patient_a):
    client = Client()
    client.get(link_url(token))
    session = client.session
    session["questionnaire_patient"]["until"] = 0
    session.save()

    assert client.get(reverse("questionnaires:home")).status_code == 302


def test_a_response_of_another_patient_is_not_found_through_the_link(token, patient_b, nurse):
    other = make_response(patient_b, "phq9", total=0, at=timezone.now(), by=nurse)
    client = Client()
    client.get(link_url(token))

    assert (
        client.get(reverse("questionnaires:done", kwargs={"response_id": other.pk})).status_code
        == 404
    )


def test_staff_make_a_link_from_the_chart(patient_a, front_desk):
    response = signed_in(front_desk).post(
        reverse("outcomes:link_create", kwargs={"patient_id": patient_a.pk})
    )

    assert response.status_code == 200
    assert "/portal/questionnaires/link/" in response.content.decode()
    assert QuestionnaireLink.objects.get().created_by == front_desk


def test_a_patient_cannot_make_links(patient_a):
    response = signed_in(patient_a.user).post(
        reverse("outcomes:link_create", kwargs={"patient_id": patient_a.pk})
    )

    assert response.status_code == 403


def test_a_reminder_gets_a_fresh_single_use_link_for_its_message(patient_a):
    url = services.reminder_link(patient_a)

    assert "/portal/questionnaires/link/" in url
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert Client().get(link_url(token)).status_code == 302
    assert Client().get(link_url(token)).status_code == 410
    assert AuditEvent.objects.get(action="outcome.link_create").actor_username == "reminders"
