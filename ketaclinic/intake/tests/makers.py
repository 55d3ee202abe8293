"""Building consultation requests for tests."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from ketaclinic.intake import requests as checks
from ketaclinic.intake.models import ConsultationRequest, Status

URL = "/api/v1/consultation-requests"


def valid_body(**changes) -> dict:
    body = {
        "given_name": "Mara",
        "family_name": "Lindqvist",
        "date_of_birth": "1988-04-12",
        "email": "mara@example.org",
        "phone": "+1 (555) 010-2030",
        "state_or_region": "Oregon",
        "conditions": ["trd", "anxiety"],
        "current_treatment": "Sertraline 100 mg",
        "preferred_contact": "email",
        "message": "I would like to know more.",
        "consent_to_contact": True,
    }
    return body | changes


def post(client: Client, body: dict, address: str = "203.0.113.7"):
    return client.post(URL, body, content_type="application/json", REMOTE_ADDR=address)


def make_request(
    given: str = "Ivo", family: str = "Petrov", *, urgent: bool = False, **extra
) -> ConsultationRequest:
    values = {
        "date_of_birth": dt.date(1975, 1, 2),
        "email": f"{given.lower()}@example.org",
        "phone": "555 010 9999",
        "state_or_region": "Oregon",
        "conditions": ["trd"],
        "preferred_contact": "phone",
        "consent_to_contact": True,
        "status": Status.NEW,
    } | extra
    return ConsultationRequest.objects.create(
        given_name=given,
        family_name=family,
        suicidal_thoughts=urgent,
        urgent=urgent,
        fingerprint=checks.fingerprint(given, family, values["date_of_birth"], values["email"]),
        created_at=extra.pop("created_at", timezone.now()),
        **{k: v for k, v in values.items() if k != "created_at"},
    )
