"""/fhir/R4/ over the demo clinic: read, search, paging, access, audit and validation."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.db.models import Count
from django.test import Client

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.fhir.registry import registry
from ketaclinic.patients.models import Patient

from .validation import validate

pytestmark = pytest.mark.django_db
PATIENT_TYPES = [
    "Patient",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "QuestionnaireResponse",
    "Appointment",
    "Encounter",
    "MedicationAdministration",
    "CarePlan",
]


def staff(role: Role) -> User:
    return User.objects.filter(role=role, is_active=True).order_by("pk").first()


def token_client(user: User) -> Client:
    _, raw = ApiToken.issue(user, "fhir test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def get(client: Client, path: str, **params):
    return client.get(f"/fhir/R4/{path}", params)


def entries(response) -> list[dict]:
    return [entry["resource"] for entry in response.json().get("entry", [])]


def link(bundle: dict, relation: str) -> str | None:
    found = [item["url"] for item in bundle["link"] if item["relation"] == relation]
    return found[0] if found else None


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def charted(demo_clinic) -> Patient:
    """The demo patient with the most treatment sessions: the fullest chart."""
    return (
        Patient.objects.annotate(sessions=Count("treatment_sessions"))
        .order_by("-sessions", "pk")
        .first()
    )


@pytest.fixture
def prescriber_client(demo_clinic) -> Client:
    return token_client(staff(Role.PRESCRIBER))


def test_every_resource_type_of_a_fully_charted_patient_reads_and_validates(
    charted, prescriber_client
):
    for type_name in PATIENT_TYPES:
        response = get(prescriber_client, type_name, patient=charted.pk, _count=500)
        assert response.status_code == 200, (type_name, response.content)
        assert response["Content-Type"].startswith("application/fhir+json")
        validate(response.json())
        found = entries(response)
        assert found, f"{type_name}: nothing for the fullest chart"
        for resource in found[:25]:
            read = get(prescriber_client, f"{type_name}/{resource['id']}")
            assert read.status_code == 200, (type_name, resource["id"])
            assert read.json() == resource
            validate(read.json())


def test_the_capability_statement_lists_exactly_the_registry(demo_clinic, prescriber_client):
    response = get(prescriber_client, "metadata")

    assert response.status_code == 200
    statement = response.json()
    validate(statement)
    served = {item["type"]: item for item in statement["rest"][0]["resource"]}
    # Group is the bulk export's cohorts (ketaclinic.fhir.bulk_groups), not a registry type.
    assert list(served) == [*registry(), "Group"]
    assert "Consent" in served
    observation_params = {p["name"] for p in served["Observation"]["searchParam"]}
    assert observation_params == {"_id", "_lastUpdated", "patient", "date", "code"}
    assert {p["name"] for p in served["Practitioner"]["searchParam"]} == {"_id", "_lastUpdated"}


def test_vital_signs_carry_loinc_codes_and_ucum_units(charted, prescriber_client):
    response = get(prescriber_client, "Observation", patient=charted.pk, code="8867-4")
    heart_rates = entries(response)

    assert heart_rates
    for resource in heart_rates:
        assert resource["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "8867-4",
            "display": "Heart rate",
        }
        assert resource["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert resource["valueQuantity"]["code"] == "/min"
    bp = entries(
        get(prescriber_client, "Observation", patient=charted.pk, code="http://loinc.org|85354-9")
    )
    assert bp
    assert {c["code"]["coding"][0]["code"] for c in bp[0]["component"]} <= {"8480-6", "8462-4"}


def test_phq9_totals_are_coded_and_carry_their_item_answers(demo_clinic, prescriber_client):
    response = get(prescriber_client, "Observation", code="http://loinc.org|44261-6", _count=5)
    totals = entries(response)

    assert totals
    for resource in totals:
        assert resource["code"]["coding"][0]["code"] == "44261-6"
        assert 0 <= resource["valueInteger"] <= 27
        assert len(resource["component"]) == 9
        assert resource["derivedFrom"][0]["reference"].startswith("QuestionnaireResponse/")
    phq9 = get(prescriber_client, "Questionnaire/phq9").json()
    assert phq9["code"][0]["code"] == "44249-1"


def test_uncertain_concepts_are_text_only(demo_clinic, prescriber_client):
    ratings = entries(get(prescriber_client, "Observation", _id="dissociation-1,dissociation-2"))
    madrs = get(prescriber_client, "Questionnaire/madrs").json()

    for resource in ratings:
        assert "coding" not in resource["code"]
    assert "code" not in madrs


def test_paging_links_walk_every_result_once(charted, prescriber_client):
    first = get(prescriber_client, "Observation", patient=charted.pk, _count=7).json()
    total = first["total"]
    assert total > 14
    assert link(first, "previous") is None
    seen = [r["resource"]["id"] for r in first["entry"]]
    page = first
    while link(page, "next"):
        page = prescriber_client.get(relative(link(page, "next"))).json()
        assert link(page, "previous")
        assert len(page["entry"]) <= 7
        seen += [r["resource"]["id"] for r in page["entry"]]
    assert len(seen) == total == len(set(seen))
    back = prescriber_client.get(relative(link(page, "previous"))).json()
    assert back["entry"]


def test_date_prefixes_bound_the_results(charted, prescriber_client):
    sessions = TreatmentSession.objects.filter(patient=charted).order_by("opened_at")
    first, last = sessions.first().opened_at, sessions.last().opened_at
    day = first.date().isoformat()

    def ids(**params) -> set[str]:
        return {
            r["id"]
            for r in entries(
                get(prescriber_client, "Encounter", patient=charted.pk, _count=500, **params)
            )
        }

    everything = ids()
    assert ids(date=f"ge{day}") == everything
    assert ids(date=f"lt{day}") == set()
    later = (last + dt.timedelta(days=2)).date().isoformat()
    assert ids(date=f"gt{later}") == set()
    assert ids(date=f"le{later}") == everything
    start = first.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert str(sessions.first().pk) in ids(date=f"eq{start}")
    both = ids(date=[f"ge{day}", f"le{later}"])
    assert both == everything


def test_last_updated_and_id_filter(charted, prescriber_client):
    everything = entries(get(prescriber_client, "Condition", patient=charted.pk))
    assert everything
    one = everything[0]["id"]

    by_id = entries(get(prescriber_client, "Condition", _id=one))
    future = entries(get(prescriber_client, "Condition", _lastUpdated="gt2100-01-01"))
    past = entries(
        get(prescriber_client, "Condition", patient=charted.pk, _lastUpdated="ge2000-01-01")
    )

    assert [r["id"] for r in by_id] == [one]
    assert future == []
    assert {r["id"] for r in past} == {r["id"] for r in everything}


def test_condition_codes_are_icd10cm(charted, prescriber_client):
    conditions = entries(get(prescriber_client, "Condition", patient=charted.pk))
    coding = conditions[0]["code"]["coding"][0]

    assert coding["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    same = entries(
        get(
            prescriber_client,
            "Condition",
            code=f"http://hl7.org/fhir/sid/icd-10-cm|{coding['code']}",
        )
    )
    assert conditions[0]["id"] in {r["id"] for r in same}
    assert (
        entries(get(prescriber_client, "Condition", code=f"http://loinc.org|{coding['code']}"))
        == []
    )


def test_a_patient_token_sees_only_their_own_resources(charted, demo_clinic):
    other = Patient.objects.exclude(pk=charted.pk).filter(diagnoses__isnull=False).first()
    if charted.user is None:
        charted.user = make_user("charted_patient", Role.PATIENT)
        charted.save(update_fields=["user"])
    client = token_client(charted.user)

    own = get(client, "Observation", _count=500)
    assert own.status_code == 200
    assert {r["subject"]["reference"] for r in entries(own)} == {f"Patient/{charted.pk}"}
    assert get(client, "Condition", patient=other.pk).status_code == 404
    assert get(client, f"Patient/{other.pk}").status_code == 404
    assert get(client, f"Patient/{charted.pk}").status_code == 200
    other_condition = other_resource_id(other)
    refused = get(client, f"Condition/{other_condition}")
    assert refused.status_code == 404
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert get(client, "AuditEvent").status_code == 403


def other_resource_id(patient: Patient) -> int:
    return patient.diagnoses.values_list("pk", flat=True).first()


def test_audit_events_are_for_the_clinic_admin_only(demo_clinic):
    admin = get(token_client(staff(Role.CLINIC_ADMIN)), "AuditEvent", _count=3)
    prescriber = get(token_client(staff(Role.PRESCRIBER)), "AuditEvent", _count=3)

    assert admin.status_code == 200
    validate(admin.json())
    assert len(entries(admin)) == 3
    assert prescriber.status_code == 403
    assert prescriber.json()["resourceType"] == "OperationOutcome"


def test_front_desk_may_not_read_clinical_resources(charted, demo_clinic):
    client = token_client(staff(Role.FRONT_DESK))

    assert get(client, "Appointment", patient=charted.pk).status_code == 200
    refused = get(client, "Observation", patient=charted.pk)
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"


def test_every_read_and_search_is_audited_with_the_patients(charted, prescriber_client):
    before = AuditEvent.objects.count()
    get(prescriber_client, "Encounter", patient=charted.pk)
    encounter = TreatmentSession.objects.filter(patient=charted).first()
    get(prescriber_client, f"Encounter/{encounter.pk}")

    search, read = AuditEvent.objects.order_by("pk")[before:][:2]
    assert search.action == "fhir.search"
    assert search.patient_id == charted.pk
    assert search.detail["patient_ids"] == [charted.pk]
    assert read.action == "fhir.read"
    assert read.detail["resource"] == f"Encounter/{encounter.pk}"


def test_a_search_page_runs_a_bounded_number_of_queries(
    charted, prescriber_client, django_assert_max_num_queries
):
    # Auth (token, last-used), 9 source COUNTs, up to 9 page SELECTs, instrument rows, audit.
    with django_assert_max_num_queries(30):
        small = get(prescriber_client, "Observation", _count=10)
    with django_assert_max_num_queries(30):
        large = get(prescriber_client, "Observation", _count=200)
    assert len(entries(small)) == 10
    assert len(entries(large)) == 200


def test_session_sign_in_works_like_a_token(charted, demo_clinic):
    client = signed_in(staff(Role.NURSE))

    response = get(client, "Encounter", patient=charted.pk)

    assert response.status_code == 200
    assert entries(response)
