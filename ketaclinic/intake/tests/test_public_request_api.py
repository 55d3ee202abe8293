"""A stranger asks for a consultation over the API: stored, audited, nothing echoed back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.intake.models import (
    REFERENCE_ALPHABET,
    ConsultationRequest,
    Status,
    SubmissionAttempt,
)
from ketaclinic.intake.tests.makers import URL, make_request, post, valid_body

pytestmark = pytest.mark.django_db


def test_a_stranger_gets_201_with_a_reference_and_nothing_of_the_record():
    response = post(Client(), valid_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"reference", "message", "crisis_resources"}
    assert body["crisis_resources"] == []
    assert "Mara" not in response.content.decode()
    assert "mara@example.org" not in response.content.decode()
    stored = ConsultationRequest.objects.get()
    assert stored.reference == body["reference"]
    assert stored.status == Status.NEW
    assert stored.conditions == ["trd", "anxiety"]
    assert stored.email == "mara@example.org"
    assert stored.urgent is False
    assert stored.events.get().to_status == Status.NEW


def test_the_reference_is_short_and_uses_an_unambiguous_alphabet():
    reference = post(Client(), valid_body()).json()["reference"]
    letters = reference.replace("-", "")
    assert len(letters) == 8
    assert set(letters) <= set(REFERENCE_ALPHABET)
    assert not set("0O1IL2Z5S8B") & set(letters)


def test_every_submission_is_audited_with_an_anonymous_actor():
    post(Client(), valid_body())
    event = AuditEvent.objects.get(action="consultation_request.submit")
    assert event.actor_id is None
    assert event.actor_username == "anonymous (public form)"
    assert event.outcome == Outcome.SUCCESS
    assert event.object_id == str(ConsultationRequest.objects.get().pk)
    assert event.ip_address == "203.0.113.7"


def test_ticking_suicidal_thoughts_returns_crisis_resources_and_marks_it_urgent(settings):
    settings.CRISIS_LINE, settings.CRISIS_LINE_NAME = "988", "Suicide & Crisis Lifeline"
    settings.EMERGENCY_NUMBER = "911"
    response = post(Client(), valid_body(suicidal_thoughts=True))
    assert response.status_code == 201
    numbers = [r["number"] for r in response.json()["crisis_resources"]]
    assert numbers == ["988", "911"]
    assert ConsultationRequest.objects.get().urgent is True


def test_the_same_person_again_within_ten_minutes_is_one_request():
    client = Client()
    first = post(client, valid_body()).json()["reference"]
    again = post(client, valid_body(given_name="MARA ", message="Sent twice")).json()["reference"]
    assert again == first
    assert ConsultationRequest.objects.count() == 1
    assert ConsultationRequest.objects.get().message == "I would like to know more."
    duplicate = (
        AuditEvent.objects.filter(action="consultation_request.submit").order_by("seq").last()
    )
    assert duplicate.detail["duplicate_of"] == ConsultationRequest.objects.get().pk


def test_a_resubmission_that_ticks_suicidal_thoughts_makes_the_first_urgent():
    client = Client()
    post(client, valid_body())
    response = post(client, valid_body(suicidal_thoughts=True))
    assert response.json()["crisis_resources"]
    stored = ConsultationRequest.objects.get()
    assert stored.urgent is True
    assert stored.events.filter(kind="urgent").exists()


def test_the_same_person_after_ten_minutes_is_a_new_request():
    earlier = make_request(
        "Mara",
        "Lindqvist",
        date_of_birth=dt.date(1988, 4, 12),
        email="mara@example.org",
        created_at=timezone.now() - dt.timedelta(minutes=11),
    )
    reference = post(Client(), valid_body()).json()["reference"]
    assert reference != earlier.reference
    assert ConsultationRequest.objects.count() == 2


def test_a_filled_honeypot_is_answered_201_and_stores_nothing():
    response = post(Client(), valid_body(website="http://spam.example"))
    assert response.status_code == 201
    assert response.json()["reference"]
    assert ConsultationRequest.objects.count() == 0
    event = AuditEvent.objects.get(action="consultation_request.submit")
    assert event.outcome == Outcome.REFUSED
    assert event.detail == {"reason": "honeypot filled"}


def test_the_sixth_submission_in_an_hour_from_one_address_gets_429():
    client = Client()
    for n in range(5):
        response = post(client, valid_body(email=f"p{n}@example.org"))
        assert response.status_code == 201
    response = post(client, valid_body(email="p6@example.org"))
    assert response.status_code == 429
    assert "Too many" in response.json()["message"]
    assert ConsultationRequest.objects.count() == 5
    assert AuditEvent.objects.filter(
        action="consultation_request.submit", outcome=Outcome.REFUSED
    ).exists()
    # Another address is not limited.
    assert post(client, valid_body(email="q@example.org"), "198.51.100.9").status_code == 201


def test_the_limit_counts_the_client_behind_the_proxy_not_the_proxy(settings):
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1
    client = Client()
    for n in range(5):
        client.post(
            URL,
            valid_body(email=f"p{n}@example.org"),
            content_type="application/json",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    other_client = client.post(
        URL,
        valid_body(email="x@example.org"),
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.51",
    )
    assert other_client.status_code == 201


def test_the_limit_window_is_an_hour():
    client = Client()
    for n in range(5):
        post(client, valid_body(email=f"p{n}@example.org"))
    SubmissionAttempt.objects.update(at=timezone.now() - dt.timedelta(minutes=61))
    assert post(client, valid_body(email="late@example.org")).status_code == 201


def test_the_address_is_not_stored_with_the_attempt():
    post(Client(), valid_body())
    attempt = SubmissionAttempt.objects.get()
    assert "203.0.113.7" not in attempt.client_key


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"conditions": []}, "conditions"),
        ({"conditions": ["flu"]}, "conditions"),
        ({"preferred_contact": "pigeon"}, "preferred_contact"),
        ({"consent_to_contact": False}, "consent_to_contact"),
        ({"given_name": "   "}, "given_name"),
        ({"given_name": "x" * 101}, "given_name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_422_naming_the_field(changes, field):
    response = post(Client(), valid_body(**changes))
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert ConsultationRequest.objects.count() == 0


def test_a_missing_field_is_422_naming_it():
    body = valid_body()
    del body["phone"]
    response = post(Client(), body)
    assert response.status_code == 422
    assert "phone" in [error["field"] for error in response.json()["errors"]]


def test_a_body_over_the_cap_is_refused():
    response = post(Client(), valid_body(message="x" * 20_000))
    assert response.status_code in (413, 422)
    assert ConsultationRequest.objects.count() == 0


def test_a_body_over_the_cap_with_padding_is_413():
    body = valid_body()
    raw = '{"given_name": "Mara",' + " " * 20_000 + str(body)[1:].replace("'", '"')
    raw = raw.replace("True", "true")
    response = Client().post(URL, raw, content_type="application/json", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 413
    assert ConsultationRequest.objects.count() == 0


def test_anonymous_callers_cannot_read_requests_back():
    consultation = make_request()
    client = Client()
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{consultation.pk}").status_code == 401
    assert (
        client.post(
            f"{URL}/{consultation.pk}/transition",
            {"status": "contacted"},
            content_type="application/json",
        ).status_code
        == 401
    )


def test_attempts_older_than_the_window_are_forgotten():
    post(Client(), valid_body())
    SubmissionAttempt.objects.update(at=timezone.now() - dt.timedelta(hours=2))
    post(Client(), valid_body(email="other@example.org"), "198.51.100.3")
    assert SubmissionAttempt.objects.count() == 1
