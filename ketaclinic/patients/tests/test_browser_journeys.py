"""Real journeys in Chromium: what a nurse and a patient see."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.conftest import sign_in
from ketaclinic.demo import clinic
from ketaclinic.patients.models import Patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_clinic(transactional_db):
    clinic.load(patients=6)
    return Patient.objects.order_by("mrn")


def test_a_nurse_finds_a_patient_and_records_a_weight_that_shows_on_the_chart(page, demo_clinic):
    patient = demo_clinic.get(mrn="DEMO0004")
    sign_in(page, "nurse", clinic.DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    page.get_by_label(re.compile("Search by name")).fill(patient.family_name)
    row_link = page.get_by_role("link", name=re.compile(patient.given_name))
    expect(row_link).to_be_visible()
    row_link.click()
    expect(page.get_by_role("heading", name=re.compile(patient.full_name))).to_be_visible()

    page.get_by_role("link", name="Weights").click()
    expect(page).to_have_url(re.compile(r"/tab/weights/$"))
    page.get_by_label("Weight (kg)").fill("72.4")
    page.get_by_label("Measured on").fill(str(timezone.localdate(patient.created_at)))
    page.get_by_role("button", name="Record weight").click()

    expect(page.get_by_text("Recorded weight: 72.4 kg")).to_be_visible()
    expect(page.locator("#current-weight")).to_contain_text("72.4 kg")
    page.get_by_role("link", name="Summary").click()
    expect(page.locator("#current-weight")).to_contain_text("72.4 kg")
    assert patient.current_weight().weight_kg == Decimal("72.4")


def test_an_impossible_weight_is_refused_with_the_reason(page, demo_clinic):
    patient = demo_clinic.first()
    sign_in(page, "nurse", clinic.DEMO_PASSWORD)
    page.goto(f"/patients/{patient.pk}/tab/weights/")
    before = patient.weights.count()
    page.get_by_label("Weight (kg)").fill("900")
    page.get_by_label("Measured on").fill(str(timezone.localdate(patient.created_at)))
    page.get_by_role("button", name="Record weight").click()
    expect(page.get_by_text("Weight must be 30–250 kg.")).to_be_visible()
    assert patient.weights.count() == before


def test_a_patient_sees_their_own_record_but_not_another_patients_chart(page, demo_clinic):
    own, other = demo_clinic.get(mrn="DEMO0001"), demo_clinic.get(mrn="DEMO0002")
    sign_in(page, "patient", clinic.DEMO_PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()
    expect(page.get_by_text(own.full_name)).to_be_visible()

    response = page.goto(f"/patients/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text(other.family_name)).to_have_count(0)
