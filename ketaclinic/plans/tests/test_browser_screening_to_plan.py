"""A real journey in Chromium: a prescriber screens a demo patient, sees a caution with its
source, signs, creates a plan and sees its proposed course."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.conftest import sign_in
from ketaclinic.demo import clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.screening.models import Screening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_patient(transactional_db):
    clinic.load(patients=6)
    return Patient.objects.get(mrn="DEMO0003")


def test_a_prescriber_takes_a_demo_patient_from_screening_to_a_signed_plan(page, demo_patient):
    patient = demo_patient
    sign_in(page, "prescriber", clinic.DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    # A weight from today, so the dose can be calculated.
    page.goto(f"/patients/{patient.pk}/tab/weights/")
    page.get_by_label("Weight (kg)").fill("72.4")
    page.get_by_label("Measured on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Record weight").click()
    expect(page.get_by_text("Recorded weight: 72.4 kg")).to_be_visible()

    page.get_by_role("link", name="Screening & plan").click()
    expect(page.get_by_text("No screenings yet.")).to_be_visible()
    page.get_by_role("link", name="New screening").click()

    expect(page.get_by_role("heading", name="From the record")).to_be_visible()
    page.get_by_label("Proposed route").select_option("iv")
    page.get_by_label("Indication").select_option("trd")
    page.get_by_label("ulcerative or interstitial cystitis").check()
    page.get_by_label("Systolic (mmHg)").fill("132")
    page.get_by_label("Diastolic (mmHg)").fill("84")
    page.get_by_role("button", name="Evaluate and save draft").click()

    expect(page.get_by_role("heading", name="Rules engine: Needs review")).to_be_visible()
    finding = page.locator("#findings li", has_text="ulcerative or interstitial cystitis")
    expect(finding.locator(".sev")).to_have_text("caution")
    expect(finding).to_contain_text(
        "Source: Prescribing information (drug label); "
        "'The Transformative Power of Ketamine Therapy' (patient guide)"
    )

    page.get_by_label("Eligible with documented reasoning").check()
    page.get_by_role("textbox", name="Reasoning").fill(
        "Cystitis resolved two years ago; urology follow-up."
    )
    page.get_by_role("button", name="Sign screening").click()
    expect(
        page.get_by_text("Screening signed: eligible with documented reasoning.")
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name="Signed: Eligible with documented reasoning")
    ).to_be_visible()

    page.get_by_role("link", name="Back to the chart").click()
    page.get_by_role("link", name="New plan").click()
    expect(page.get_by_role("heading", name=re.compile("New treatment plan"))).to_be_visible()
    expect(page.get_by_label("Protocol")).to_have_value("iv_racemic")
    expect(page.get_by_label("Dose (mg/kg)")).to_have_value("0.500")
    page.get_by_role("button", name="Save draft plan").click()

    expect(page.get_by_text("Draft plan saved. Check it, then sign it.")).to_be_visible()
    expect(page.locator("#dose")).to_contain_text("0.5 mg/kg = 36.2 mg")
    expect(
        page.get_by_role("heading", name=re.compile("Proposed course \\(preview"))
    ).to_be_visible()
    page.get_by_role("button", name="Sign plan").click()

    expect(page.get_by_text("Plan signed and active; 6 sessions proposed.")).to_be_visible()
    strip = page.get_by_role("table", name="Proposed course by week")
    expect(strip).to_contain_text("#1")
    expect(strip).to_contain_text("#6")
    expect(page.locator("#plan-summary")).to_contain_text("Maya Chen, MD")

    plan = TreatmentPlan.objects.get(patient=patient)
    assert plan.status == PlanStatus.ACTIVE
    assert plan.planned_sessions.count() == 6
    assert Screening.objects.get(patient=patient).clinician_decision == "eligible_with_reasoning"
