"""The patient list and chart pages: what a person sees, what is audited, and how many
queries each page costs (pinned, and independent of how long the record is)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    WeightMeasurement,
)


def listed(response) -> list[int]:
    return [patient.pk for patient in response.context["page"]]


def text_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def carol(db):
    return make_patient(
        "Carol", "Chen", date_of_birth=dt.date(1975, 1, 2), email="carol@example.org"
    )


# --- The patient list --------------------------------------------------------------------


def test_the_list_shows_everyone_in_name_order(front_desk, patient_a, patient_b, carol):
    response = signed_in(front_desk).get("/patients/")

    assert response.status_code == 200
    assert listed(response) == [patient_a.pk, patient_b.pk, carol.pk]
    assert "Alvarez, Ada" in text_of(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alv", ["patient_a"]),
        ("Brooks", ["patient_b"]),
        ("carol chen", ["carol"]),
        ("1975-01-02", ["carol"]),
        ("1980-05-17", ["patient_a", "patient_b"]),
        ("carol@example.org", ["carol"]),
    ],
)
def test_the_search_finds_people_by_name_dob_or_email(
    nurse, patient_a, patient_b, carol, query, expected
):
    people = {"patient_a": patient_a, "patient_b": patient_b, "carol": carol}

    response = signed_in(nurse).get("/patients/", {"q": query})

    assert response.status_code == 200
    assert listed(response) == [people[name].pk for name in expected]
    page = text_of(response)
    for name, person in people.items():
        assert (person.mrn in page) == (name in expected)


def test_the_search_finds_a_person_by_mrn(nurse, patient_a, patient_b):
    response = signed_in(nurse).get("/patients/", {"q": patient_b.mrn})

    assert listed(response) == [patient_b.pk]
    assert "Brooks, Ben" in text_of(response)
    assert "Alvarez" not in text_of(response)


def test_a_search_that_finds_nobody_says_so(nurse, patient_a):
    response = signed_in(nurse).get("/patients/", {"q": "zebra"})

    assert listed(response) == []
    assert "No patient matches “zebra”." in text_of(response)


def test_every_search_is_audited_with_its_query(nurse, patient_a):
    signed_in(nurse).get("/patients/", {"q": "alv"})

    event = AuditEvent.objects.filter(action="patient.list").order_by("-seq").first()
    assert event.actor_id == nurse.pk
    assert event.detail == {"query": "alv", "page": 1}


def test_an_htmx_search_returns_only_the_rows(nurse, patient_a, patient_b):
    response = signed_in(nurse).get(
        "/patients/", {"q": "alv"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="patient-rows"
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["patients/_rows.html"]
    html = text_of(response).strip()
    assert html.startswith("<tr>")
    assert "<html" not in html
    assert "<table" not in html
    assert "Alvarez, Ada" in html
    assert "Brooks" not in html


def test_a_plain_search_returns_the_whole_page(nurse, patient_a):
    response = signed_in(nurse).get("/patients/", {"q": "alv"})

    assert "<html" in text_of(response)
    assert 'id="patient-rows"' in text_of(response)


def test_the_list_pages_at_fifty(nurse):
    for i in range(60):
        make_patient(f"Given{i:02d}", f"Family{i:02d}")
    client = signed_in(nurse)

    first = client.get("/patients/")
    second = client.get("/patients/", {"page": 2})

    assert len(listed(first)) == 50
    assert "Page 1 of 2" in text_of(first)
    assert len(listed(second)) == 10


# --- The chart ---------------------------------------------------------------------------


def current_weight_shown(response) -> str:
    found = re.search(r'id="current-weight">(.*?)</(dd|p)>', text_of(response), re.S)
    assert found, "the page shows no current weight"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_chart_shows_name_mrn_and_current_weight_with_its_date(nurse, patient_a, weight_of):
    weight_of(patient_a, "80.0", days_ago=40)
    latest = weight_of(patient_a, "78.5", days_ago=3)

    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/")

    assert response.status_code == 200
    page = text_of(response)
    assert "Ada Alvarez" in page
    assert patient_a.mrn in page
    assert "born 1980-05-17" in page
    assert current_weight_shown(response) == (
        f"78.5 kg measured {latest.measured_on:%Y-%m-%d} (3 days ago)"
    )


def test_the_chart_says_when_no_weight_is_recorded(nurse, patient_a):
    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/")

    assert current_weight_shown(response) == "none recorded"


def test_the_weights_tab_shows_the_current_weight_too(nurse, patient_a, weight_of):
    weight_of(patient_a, "78.5", days_ago=0)

    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/weights/")

    assert current_weight_shown(response).startswith("Current: 78.5 kg, measured")


@pytest.fixture
def charted(patient_a, weight_of, prescriber):
    """Patient A with contact details, a weight, a diagnosis, a medicine and an allergy."""
    patient_a.email = "ada@example.org"
    patient_a.phone = "555-0142"
    patient_a.save(update_fields=["email", "phone"])
    weight_of(patient_a, "78.5", days_ago=3)
    Diagnosis.objects.create(patient=patient_a, icd10_code="F33.2", recorded_by=prescriber)
    Medication.objects.create(
        patient=patient_a,
        name="Lamotrigine",
        drug_class="mood_stabilizer",
        dose="100 mg",
        recorded_by=prescriber,
    )
    Allergy.objects.create(
        patient=patient_a, substance="Latex", severity="mild", recorded_by=prescriber
    )
    return patient_a


def test_front_desk_sees_demographics_but_not_the_clinical_summary(front_desk, charted):
    response = signed_in(front_desk).get(f"/patients/{charted.pk}/")

    assert response.status_code == 200
    page = text_of(response)
    assert "Ada Alvarez" in page
    assert charted.mrn in page
    assert "ada@example.org" in page
    assert "555-0142" in page
    for clinical in ("Clinical summary", "78.5 kg", "F33.2", "Lamotrigine", "Latex"):
        assert clinical not in page, f"front desk must not see {clinical!r}"
    assert 'id="current-weight"' not in page
    tabs = {slug for slug, _ in response.context["tabs"]}
    assert {"summary", "care-team"} <= tabs
    assert not tabs & {"history", "medications", "weights", "changes"}


def test_a_clinician_sees_the_clinical_summary(therapist, charted):
    page = text_of(signed_in(therapist).get(f"/patients/{charted.pk}/"))

    for clinical in ("Clinical summary", "78.5 kg", "F33.2", "Lamotrigine", "Latex (mild)"):
        assert clinical in page


def test_the_portal_shows_a_patient_their_own_record(charted, patient_b):
    response = signed_in(charted.user).get("/portal/")

    assert response.status_code == 200
    page = text_of(response)
    assert "Hello, Ada" in page
    assert "78.5 kg" in page
    assert "Lamotrigine" in page
    assert "Ben" not in page
    event = AuditEvent.objects.filter(action="patient.view").order_by("-seq").first()
    assert (event.patient_id, event.detail) == (charted.pk, {"section": "portal"})


TABS = ["summary", "history", "medications", "weights", "care-team", "changes"]


@pytest.mark.parametrize("tab", TABS)
def test_every_chart_view_is_audited_with_its_section(prescriber, patient_a, tab):
    before = AuditEvent.objects.filter(action="patient.view").count()

    response = signed_in(prescriber).get(f"/patients/{patient_a.pk}/tab/{tab}/")

    assert response.status_code == 200
    views = AuditEvent.objects.filter(action="patient.view").order_by("-seq")
    assert views.count() == before + 1
    event = views.first()
    assert event.actor_id == prescriber.pk
    assert event.patient_id == patient_a.pk
    assert event.detail == {"section": tab}


def test_opening_the_chart_is_audited_as_the_summary(nurse, patient_a):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/")

    event = AuditEvent.objects.filter(action="patient.view").order_by("-seq").first()
    assert event.detail == {"section": "summary"}


@pytest.mark.parametrize("tab", TABS)
def test_an_htmx_tab_request_returns_only_the_tab_and_is_audited(prescriber, patient_a, tab):
    response = signed_in(prescriber).get(
        f"/patients/{patient_a.pk}/tab/{tab}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tab-panel"
    )

    assert response.status_code == 200
    assert response.templates[0].name == f"patients/tabs/{tab}.html"
    assert "<html" not in text_of(response)
    event = AuditEvent.objects.filter(action="patient.view").order_by("-seq").first()
    assert event.detail == {"section": tab}


def test_the_changes_tab_lists_record_changes_but_not_reads(prescriber, patient_a, weight_of):
    client = signed_in(prescriber)
    client.post(
        f"/patients/{patient_a.pk}/weights/add/",
        {"weight_kg": "72.0", "measured_on": timezone.localdate().isoformat()},
    )
    client.get(f"/patients/{patient_a.pk}/")

    response = client.get(f"/patients/{patient_a.pk}/tab/changes/")

    actions = [event.action for event in response.context["events"]]
    assert "weight.create" in actions
    assert "patient.view" not in actions


# --- Query counts ------------------------------------------------------------------------

# What each page costs today, plus a small margin. Session, user, the audit row (savepoint,
# chain head, insert, head update, release), the patient, then the page's own reads.
MAX_QUERIES_LIST = 11
MAX_QUERIES_TAB = {
    "summary": 16,
    "history": 14,
    "medications": 12,
    "weights": 12,
    "care-team": 11,
    "changes": 11,
}


def fill_record(patient, by, n: int) -> None:
    """``n`` entries of every kind, each recorded by ``by``, some entered in error."""
    start = dt.date(2020, 1, 1)
    common = {"patient": patient, "recorded_by": by}
    WeightMeasurement.objects.bulk_create(
        WeightMeasurement(
            weight_kg=Decimal("70.0") + i, measured_on=start + dt.timedelta(days=i), **common
        )
        for i in range(n)
    )
    Diagnosis.objects.bulk_create(Diagnosis(icd10_code="F33.1", **common) for _ in range(n))
    AntidepressantTrial.objects.bulk_create(
        AntidepressantTrial(
            drug="sertraline",
            drug_class="ssri",
            dose_mg_per_day=Decimal(150),
            duration_weeks=8,
            outcome="no_response",
            adequate=True,
            **common,
        )
        for _ in range(n)
    )
    OtherTreatment.objects.bulk_create(
        OtherTreatment(kind="tms", outcome="no_response", **common) for _ in range(n)
    )
    Medication.objects.bulk_create(
        Medication(name=f"drug {i}", drug_class="ssri", dose="1 mg", **common) for i in range(n)
    )
    Allergy.objects.bulk_create(
        Allergy(substance=f"substance {i}", severity="mild", **common) for i in range(n)
    )
    CareTeamMember.objects.bulk_create(
        CareTeamMember(role="nurse", user=by, **common) for _ in range(n)
    )
    WeightMeasurement.objects.filter(patient=patient, weight_kg=Decimal("70.0")).update(
        status="entered-in-error", error_reason="typo"
    )


def queries_for(client, url: str, limit: int, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_patient_list_costs_a_fixed_number_of_queries(
    front_desk, django_assert_max_num_queries
):
    client = signed_in(front_desk)
    for i in range(5):
        make_patient(f"Given{i:02d}", f"Family{i:02d}")
    with_few = queries_for(client, "/patients/", MAX_QUERIES_LIST, django_assert_max_num_queries)
    for i in range(5, 60):
        make_patient(f"Given{i:02d}", f"Family{i:02d}")

    with_many = queries_for(client, "/patients/", MAX_QUERIES_LIST, django_assert_max_num_queries)

    assert with_many == with_few


@pytest.mark.parametrize("tab", TABS)
def test_each_chart_tab_costs_the_same_for_a_short_and_a_long_record(
    prescriber, nurse, patient_a, patient_b, tab, django_assert_max_num_queries
):
    fill_record(patient_a, nurse, 5)
    fill_record(patient_b, nurse, 50)
    client = signed_in(prescriber)
    limit = MAX_QUERIES_TAB[tab]

    short = queries_for(
        client, f"/patients/{patient_a.pk}/tab/{tab}/", limit, django_assert_max_num_queries
    )
    long = queries_for(
        client, f"/patients/{patient_b.pk}/tab/{tab}/", limit, django_assert_max_num_queries
    )

    assert long == short
