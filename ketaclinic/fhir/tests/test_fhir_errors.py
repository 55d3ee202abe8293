"""Errors on /fhir/R4/ are OperationOutcome resources with the right status."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.fhir.views import operation_outcome

from .validation import validate

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    _, raw = ApiToken.issue(user, "fhir test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def outcome_of(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    return body["issue"][0]["diagnostics"]


def test_no_credentials_get_401(patient_a):
    outcome_of(Client().get(f"/fhir/R4/Patient/{patient_a.pk}"), 401, "login")


def test_a_bad_bearer_token_gets_401_and_is_audited(patient_a):
    client = Client(HTTP_AUTHORIZATION="Bearer not-a-token")

    outcome_of(client.get("/fhir/R4/Patient"), 401, "login")
    assert AuditEvent.objects.filter(action="auth.token_refused").exists()


def test_the_capability_statement_needs_no_credentials(db):
    response = Client().get("/fhir/R4/metadata")

    assert response.status_code == 200
    validate(response.json())


def test_an_unknown_type_is_404(prescriber):
    text = outcome_of(bearer(prescriber).get("/fhir/R4/Spaceship"), 404, "not-supported")
    assert "Spaceship" in text


def test_an_unknown_or_malformed_id_is_404(prescriber, patient_a):
    client = bearer(prescriber)

    outcome_of(client.get("/fhir/R4/Patient/999999"), 404, "not-found")
    outcome_of(client.get("/fhir/R4/Patient/abc"), 404, "not-found")
    outcome_of(client.get("/fhir/R4/Observation/nosuchprefix-1"), 404, "not-found")
    outcome_of(client.get("/fhir/R4/Patient/99999999999999999999999"), 404, "not-found")


def test_another_patients_record_is_404_to_a_patient(patient_a, patient_b):
    client = bearer(patient_a.user)

    text = outcome_of(client.get(f"/fhir/R4/Patient/{patient_b.pk}"), 404, "not-found")
    assert "not known" in text
    assert AuditEvent.objects.filter(action="access.refused", outcome=Outcome.REFUSED).exists()
    assert client.get(f"/fhir/R4/Patient/{patient_a.pk}").status_code == 200


def test_an_outsider_sees_no_patient(outsider, patient_a):
    client = bearer(outsider)

    outcome_of(client.get(f"/fhir/R4/Patient/{patient_a.pk}"), 404, "not-found")
    assert client.get("/fhir/R4/Patient").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("colour=blue", "colour"),
        ("code:text=x", "code:text"),
        ("date=yesterday", "date"),
        ("date=ne2024-01-01", "prefix"),
        ("date=2024-02-30", "date"),
        ("date=2024-02-03T10:00", "zone"),
        ("_count=0", "_count"),
        ("_count=abc", "_count"),
        ("_count=100000", "_count"),
        ("_offset=-1", "_offset"),
        ("patient=Group/1", "patient"),
        ("_id=", "_id"),
    ],
)
def test_a_bad_search_parameter_is_400_naming_it(prescriber, query, named):
    response = bearer(prescriber).get(f"/fhir/R4/Condition?{query}")

    text = outcome_of(response, 400, response.json()["issue"][0]["code"])
    assert named in text or named in str(response.json()["issue"][0].get("expression"))


def test_a_parameter_a_type_does_not_support_is_400(prescriber):
    text = outcome_of(
        bearer(prescriber).get("/fhir/R4/Practitioner?date=2024"), 400, "not-supported"
    )
    assert "date" in text


def test_a_role_without_the_permission_gets_403(front_desk, patient_a):
    text = outcome_of(
        bearer(front_desk).get(f"/fhir/R4/Condition?patient={patient_a.pk}"), 403, "forbidden"
    )
    assert "front_desk" in text


def test_writes_are_refused_as_not_supported(prescriber):
    outcome_of(bearer(prescriber).delete("/fhir/R4/Patient/1"), 405, "not-supported")


def test_an_unverified_session_is_held_back_when_mfa_is_required(settings, prescriber, patient_a):
    settings.MFA_REQUIRED = True

    session = signed_in(prescriber).get(f"/fhir/R4/Patient/{patient_a.pk}")
    token = bearer(prescriber).get(f"/fhir/R4/Patient/{patient_a.pk}")

    assert session.status_code in (302, 401)
    assert b"Ada" not in session.content
    assert token.status_code == 200


def test_an_unprocessable_outcome_is_a_valid_resource():
    # The helper "bulk" uses for import errors: a 422 naming the entry and path.
    response = operation_outcome(
        422,
        "invalid",
        "entry[2].resource.birthDate: not a date",
        "Bundle.entry[2].resource.birthDate",
    )
    body = __import__("json").loads(response.content)
    validate(body)
    assert response.status_code == 422
    assert body["issue"][0]["expression"] == ["Bundle.entry[2].resource.birthDate"]
