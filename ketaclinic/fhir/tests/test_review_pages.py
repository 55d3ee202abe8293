"""Staff review pages for records received from another EHR: the clinic-wide queue, the
bundle's page (file under a patient, accept with what the clinician supplies, reject with a
reason) and the patient chart's "Imported records" tab."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.fhir.staging_models import StagedImport, StagedItem, StagedStatus
from ketaclinic.fhir.tests.test_accept_types import MEDICATION
from ketaclinic.fhir.tests.test_import import CONDITION, PATIENT, bundle, post, token_client
from ketaclinic.patients.models import Diagnosis, Medication, Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staged(prescriber, patient_a) -> StagedImport:
    assert post(token_client(prescriber), bundle(PATIENT, CONDITION, MEDICATION)).status_code == 201
    return StagedImport.objects.get()


def url(staged, *rest) -> str:
    return "/".join([f"/imports/{staged.pk}", *map(str, rest), ""]).replace("//", "/")


def item(kind: str) -> StagedItem:
    return StagedItem.objects.get(resource_type=kind)


def test_the_queue_lists_bundles_awaiting_review_with_their_origin(prescriber, staged):
    answer = signed_in(prescriber).get("/imports/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "https://ehr.example.org" in page
    assert "referral-42" in page
    assert "Ada Alvarez" in page
    assert AuditEvent.objects.filter(action="fhir.import.queue_viewed").exists()


def test_front_desk_and_patients_may_not_review(front_desk, patient_a, staged):
    assert signed_in(front_desk).get("/imports/").status_code == 403
    assert signed_in(front_desk).get(url(staged)).status_code == 403
    assert signed_in(patient_a.user).get(url(staged)).status_code == 403
    assert AuditEvent.objects.filter(action="access.refused").count() == 3


def test_an_unknown_bundle_is_not_found(prescriber, staged):
    assert signed_in(prescriber).get(f"/imports/{staged.pk + 99}/").status_code == 404


def test_filing_under_the_match_then_accepting_and_rejecting(prescriber, patient_a, staged):
    client = signed_in(prescriber)
    page = client.get(url(staged)).content.decode()
    assert "referral-42" in page
    assert patient_a.mrn in page
    assert AuditEvent.objects.filter(action="fhir.import.viewed").exists()

    early = client.post(url(staged, "items", item("Condition").pk, "accept"))
    assert early.status_code == 422
    assert "File these records under a patient first." in early.content.decode()

    assert client.post(url(staged, "file"), {"patient": patient_a.pk}).status_code == 302
    staged.refresh_from_db()
    assert staged.patient == patient_a
    assert AuditEvent.objects.filter(action="fhir.import.filed", patient_id=patient_a.pk).exists()

    medication = item("MedicationStatement")
    no_class = client.post(url(staged, "items", medication.pk, "accept"))
    assert no_class.status_code == 422
    assert "Choose the medication" in no_class.content.decode()
    assert not Medication.objects.exists()
    chosen = client.post(url(staged, "items", medication.pk, "accept"), {"drug_class": "ssri"})
    assert chosen.status_code == 302
    stored = Medication.objects.get(patient=patient_a)
    assert (stored.drug_class, stored.recorded_by) == ("ssri", prescriber)
    again = client.post(url(staged, "items", medication.pk, "accept"), {"drug_class": "ssri"})
    assert again.status_code == 409

    condition = item("Condition")
    assert (
        client.post(url(staged, "items", condition.pk, "reject"), {"reason": ""}).status_code == 422
    )
    answer = client.post(url(staged, "items", condition.pk, "reject"), {"reason": "Old diagnosis."})
    assert answer.status_code == 302
    condition.refresh_from_db()
    assert (condition.status, condition.reason) == (StagedStatus.REJECTED, "Old diagnosis.")
    assert not Diagnosis.objects.exists()
    assert AuditEvent.objects.filter(
        action="fhir.import.rejected", patient_id=patient_a.pk
    ).exists()
    assert signed_in(prescriber).get("/imports/").content.decode().count("referral-42") == 0


def test_filing_under_a_patient_who_does_not_match_is_refused(prescriber, patient_b, staged):
    answer = signed_in(prescriber).post(url(staged, "file"), {"patient": patient_b.pk})
    assert answer.status_code == 422
    staged.refresh_from_db()
    assert staged.patient is None


def test_filing_as_a_new_patient_creates_them(prescriber, patient_a, staged):
    answer = signed_in(prescriber).post(url(staged, "file"), {"patient": "new"})
    assert answer.status_code == 302
    staged.refresh_from_db()
    assert staged.patient != patient_a
    assert Patient.objects.filter(family_name="Alvarez").count() == 2


def test_the_chart_tab_shows_received_records(prescriber, patient_a, patient_b, staged):
    tab = reverse("patients:chart_tab", kwargs={"patient_id": patient_a.pk, "tab": "imports"})
    page = signed_in(prescriber).get(tab)
    assert page.status_code == 200
    assert "may be this patient" in page.content.decode()
    assert url(staged) in page.content.decode()
    assert signed_in(patient_b.user).get(tab).status_code == 404
