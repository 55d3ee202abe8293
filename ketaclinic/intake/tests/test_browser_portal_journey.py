"""In Chromium: a stranger asks for a consultation on a phone, the front desk triages and
converts the request, the new patient signs in to the portal on their phone, completes the
intake and signs the consent, the front desk books the consultation, and the screening page
shows what the patient reported, awaiting a clinician's confirmation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.conftest import sign_in
from ketaclinic.demo import clinic
from ketaclinic.intake.models import (
    ConsentSignature,
    ConsultationRequest,
    IntakeItem,
    ItemStatus,
)
from ketaclinic.patients.models import Diagnosis
from ketaclinic.scheduling.models import Appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def next_weekday(days_ahead: int) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def ask_for_a_consultation(phone) -> str:
    phone.goto("/request/")
    phone.get_by_label("First name").fill("Noor")
    phone.get_by_label("Last name").fill("Haddad")
    phone.get_by_label("Date of birth").fill("1988-04-12")
    phone.get_by_label("Email").fill("noor@example.org")
    phone.get_by_label("Phone").fill("860-555-0177")
    phone.get_by_label("State or region").fill("Connecticut")
    phone.get_by_role(
        "checkbox",
        name="Depression that has not improved with treatment (treatment-resistant depression)",
        exact=True,
    ).check()
    phone.get_by_label("How should we contact you?").select_option("email")
    phone.get_by_label("The clinic may contact me about this request").check()
    phone.get_by_role("button", name="Send my request").click()
    reference = phone.locator(".reference")
    expect(reference).to_be_visible()
    return reference.inner_text()


def triage_and_convert(page, reference: str) -> None:
    sign_in(page, "frontdesk", clinic.DEMO_PASSWORD)
    page.goto("/triage/")
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Move to").select_option("contacted")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Contacted")
    page.get_by_role("button", name="Create patient").click()
    expect(page.locator("h1")).to_contain_text("Converted")


def complete_intake(phone) -> None:
    phone.get_by_role("link", name="Health questionnaire before your first visit").click()
    phone.get_by_label(re.compile("Have you ever had psychosis")).check()
    phone.get_by_label("Not pregnant and not breastfeeding").check()
    phone.locator('input[name="med-0-name"]').fill("Sertraline")
    phone.locator('input[name="med-0-dose"]').fill("100 mg")
    phone.get_by_label("Emergency contact's name").fill("Sami Haddad")
    phone.get_by_label("Emergency contact's phone").fill("860-555-0178")
    phone.get_by_label("Who will drive you home after treatment").fill("Sami Haddad")
    phone.get_by_label("Their phone").fill("860-555-0178")
    # Nothing overflows sideways on a 390 px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_text("Your answers are sent")).to_be_visible()


def sign_the_iv_consent(phone) -> None:
    phone.locator("li", has_text="ketamine infusion").get_by_role(
        "link", name="Read and sign"
    ).click()
    expect(phone.locator("#consent-text")).to_contain_text("off-label")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_label("Type your full name to sign").fill("Noor Haddad")
    phone.get_by_role("button", name="I agree and sign").click()
    expect(phone.get_by_text(re.compile("You signed this on"))).to_be_visible()


def test_a_strangers_request_becomes_a_prepared_patient_awaiting_screening(page, phone):
    clinic.load(patients=4)

    reference = ask_for_a_consultation(phone)
    triage_and_convert(page, reference)
    request = ConsultationRequest.objects.get(reference=reference)
    patient = request.patient
    assert patient is not None
    assert (patient.given_name, patient.family_name) == ("Noor", "Haddad")

    # The front desk invites the new patient to the portal; the emailed link (locmem
    # backend in tests) lets them choose a password and lands them on the portal.
    page.get_by_role("button", name="Invite to the portal").click()
    expect(page.get_by_text("Portal invitation sent to noor@example.org")).to_be_visible()
    link = re.search(r"/portal/welcome/\S+/", mail.outbox[-1].body).group(0)
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("Welcome to your patient portal")
    phone.locator('input[name="new_password1"]').fill("lantern-orchard-velvet-42")
    phone.locator('input[name="new_password2"]').fill("lantern-orchard-velvet-42")
    phone.get_by_role("button", name="Set my password").click()
    expect(phone.get_by_text("Your password is set")).to_be_visible()
    complete_intake(phone)
    sign_the_iv_consent(phone)
    assert ConsentSignature.objects.filter(patient=patient, document_code="iv_ketamine").exists()

    # The front desk books the consultation the converted request offers.
    page.goto(f"/triage/{request.pk}/")
    page.get_by_role("link", name="Book the consultation").click()
    page.get_by_label("Date").fill(str(next_weekday(7)))
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text(re.compile("Booked .* for Noor Haddad"))).to_be_visible()
    assert Appointment.objects.filter(patient=patient, type__code="consultation").exists()

    # The patient sees the visit on the portal's preparation page.
    phone.goto("/portal/visits/")
    expect(phone.locator("#visits")).to_contain_text("onsultation")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Screening: the patient's answers are shown, awaiting confirmation, not ticked.
    page.context.clear_cookies()  # the front desk leaves; the prescriber signs in
    sign_in(page, "prescriber", clinic.DEMO_PASSWORD)
    page.goto(f"/patients/{patient.pk}/screenings/new/")
    reported = page.locator('[data-reported="psychosis_history"]')
    expect(reported).to_have_text("patient-reported, awaiting confirmation")
    expect(page.locator("#finding-psychosis_history")).not_to_be_checked()
    expect(page.locator("#patient-reported")).to_contain_text("Have you ever had psychosis")
    pending = IntakeItem.objects.filter(patient=patient, status=ItemStatus.PENDING)
    assert pending.filter(finding="psychosis_history").exists()
    assert not Diagnosis.objects.filter(patient=patient).exists()
