"""The public request page: no sign-in, errors beside their fields, crisis resources at once."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.intake.models import ConsultationRequest

pytestmark = pytest.mark.django_db


def form(**changes) -> dict:
    return {
        "given_name": "Noor",
        "family_name": "Haddad",
        "date_of_birth": "1990-07-01",
        "email": "noor@example.org",
        "phone": "555-010-4477",
        "state_or_region": "Texas",
        "conditions": ["ptsd", "other"],
        "preferred_contact": "sms",
        "message": "",
        "consent_to_contact": "on",
    } | changes


def test_the_request_page_opens_without_signing_in():
    response = Client().get("/request/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask for a consultation" in page
    assert "Post-traumatic stress (PTSD)" in page
    assert "<script>" not in page.split("</head>", 1)[1]


def test_sending_the_form_stores_it_and_shows_the_reference():
    client = Client()
    response = client.post("/request/", form(), REMOTE_ADDR="203.0.113.20")
    assert response.status_code == 302
    stored = ConsultationRequest.objects.get()
    assert stored.conditions == ["ptsd", "other"]
    assert stored.preferred_contact == "sms"
    page = client.get(response["Location"]).content.decode()
    assert stored.reference in page
    assert "Noor" not in page
    assert "crisis" not in page.split("<main", 1)[1].lower().split("thank you")[0]
    assert AuditEvent.objects.filter(action="consultation_request.submit").exists()


def test_ticking_suicidal_thoughts_shows_crisis_resources_on_the_confirmation(settings):
    settings.CRISIS_LINE, settings.EMERGENCY_NUMBER = "988", "911"
    settings.CRISIS_LINE_NAME = "Suicide & Crisis Lifeline"
    client = Client()
    response = client.post("/request/", form(suicidal_thoughts="on"), follow=True)
    page = response.content.decode()
    assert 'role="alert"' in page
    assert 'href="tel:988"' in page
    assert 'href="tel:911"' in page
    assert "Suicide &amp; Crisis Lifeline" in page
    assert ConsultationRequest.objects.get().urgent is True


def test_errors_are_shown_beside_their_fields_with_422():
    response = Client().post("/request/", form(email="nope", phone="x", consent_to_contact=""))
    assert response.status_code == 422
    page = response.content.decode()
    assert "must be an email address" in page
    assert "must be a telephone number" in page
    assert "must be ticked" in page
    assert ConsultationRequest.objects.count() == 0


def test_a_filled_honeypot_looks_accepted_but_stores_nothing():
    client = Client()
    response = client.post("/request/", form(website="buy now"), follow=True)
    assert response.status_code == 200
    assert "Your reference is" in response.content.decode()
    assert ConsultationRequest.objects.count() == 0


def test_the_honeypot_is_hidden_from_people():
    page = Client().get("/request/").content.decode()
    assert '<div hidden aria-hidden="true">' in page
    assert 'name="website"' in page


def test_the_confirmation_page_without_a_submission_goes_back_to_the_form():
    response = Client().get("/request/received/")
    assert response.status_code == 302
    assert response["Location"] == "/request/"


def test_the_sixth_form_in_an_hour_is_429_with_a_message():
    client = Client()
    for n in range(5):
        client.post("/request/", form(email=f"n{n}@example.org"), REMOTE_ADDR="203.0.113.30")
    response = client.post("/request/", form(email="n9@example.org"), REMOTE_ADDR="203.0.113.30")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
