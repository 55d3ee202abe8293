"""In Chromium on a phone-sized screen: a patient answers a PHQ-9 on the portal, and an
item-9 answer reaches the prescriber's worklist at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.roles import Role
from ketaclinic.conftest import PASSWORD, make_patient, make_user, sign_in
from ketaclinic.outcomes.models import Response, ResponseStatus, SafetyTask, SafetyTaskStatus
from ketaclinic.outcomes.tests.factories import add_prescriber

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
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def people(transactional_db):
    prescriber = make_user("drchen", Role.PRESCRIBER, credentials="MD")
    patient = make_patient("Ada", "Alvarez", user=make_user("ada", Role.PATIENT))
    add_prescriber(patient, prescriber)
    return patient, prescriber


def answer(page, choices: list[str]) -> None:
    for number, choice in enumerate(choices, start=1):
        page.locator(f"#question-{number}").get_by_text(choice, exact=True).click()


def test_a_patient_completes_a_phq9_on_a_phone(phone, people):
    patient, _ = people
    sign_in(phone, "ada", PASSWORD)
    phone.get_by_role("link", name="Your questionnaires and answers").click()
    phone.get_by_role("link", name="Patient Health Questionnaire-9 (PHQ-9)").click()
    expect(
        phone.get_by_role("heading", name="Patient Health Questionnaire-9 (PHQ-9)")
    ).to_be_visible()

    # Nothing overflows sideways on a 390 px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    answer(phone, ["Several days"] * 4 + ["More than half the days"] * 2 + ["Not at all"] * 3)
    send = phone.get_by_role("button", name="Send my answers")
    box = send.bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 150
    send.click()

    expect(phone.get_by_role("heading", name="Thank you, your answers are sent")).to_be_visible()
    expect(phone.locator("#plain-summary")).to_contain_text(
        "Your score was 8 out of 27, in the “mild” range."
    )
    expect(phone.locator("#crisis-resources")).to_have_count(0)
    stored = Response.objects.get(patient=patient)
    assert (stored.status, stored.total, stored.channel) == (ResponseStatus.COMPLETED, 8, "portal")


def test_a_patient_can_stop_halfway_and_finish_later(phone, people):
    patient, _ = people
    sign_in(phone, "ada", PASSWORD)
    phone.goto("/portal/questionnaires/answer/phq9/")
    answer(phone, ["Several days"] * 3)
    phone.get_by_role("button", name="Save and finish later").click()

    expect(phone.get_by_text("started")).to_be_visible()
    assert Response.objects.get(patient=patient).status == ResponseStatus.IN_PROGRESS

    phone.goto("/portal/questionnaires/answer/phq9/")
    expect(phone.locator("#question-2 input:checked")).to_have_count(1)
    answer(phone, ["Several days"] * 3 + ["Not at all"] * 6)
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", name="Thank you, your answers are sent")).to_be_visible()
    assert Response.objects.get(patient=patient).status == ResponseStatus.COMPLETED


def test_an_item_9_answer_shows_crisis_resources_and_reaches_the_prescriber(phone, page, people):
    patient, _prescriber = people
    sign_in(phone, "ada", PASSWORD)
    phone.goto("/portal/questionnaires/answer/phq9/")
    answer(phone, ["Several days"] * 8 + ["More than half the days"])
    phone.get_by_role("button", name="Send my answers").click()

    crisis = phone.locator("#crisis-resources")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("988")
    expect(crisis.get_by_role("link", name=re.compile("Call or text 988"))).to_have_attribute(
        "href", "tel:988"
    )
    expect(crisis).to_contain_text("Your care team has been alerted")
    assert crisis.bounding_box()["y"] < PHONE["height"]  # on screen without scrolling

    sign_in(page, "drchen", PASSWORD)
    page.get_by_role("link", name="Worklist").click()
    urgent = page.locator("#safety-tasks")
    expect(urgent).to_contain_text("Urgent: suicidal-ideation follow-up (1)")
    expect(urgent).to_contain_text(patient.full_name)
    expect(urgent).to_contain_text("assigned to you")
    urgent.get_by_role("link", name="Document follow-up").click()
    page.get_by_label("What was done").select_option("phone_call")
    page.get_by_label("Follow-up note").fill(
        "Reached Ada by phone: passive thoughts, no plan; safety plan reviewed."
    )
    page.get_by_role("button", name="Save follow-up and close the task").click()

    expect(page.locator("#safety-tasks")).to_contain_text("Urgent: suicidal-ideation follow-up (0)")
    assert SafetyTask.objects.get().status == SafetyTaskStatus.RESOLVED
