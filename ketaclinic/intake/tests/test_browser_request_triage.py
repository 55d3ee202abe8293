"""In Chromium on a phone-sized screen: a stranger asks for a consultation and ticks that they
have thoughts of suicide, sees crisis resources at once; the front desk sees the urgent banner
on another page, opens the request at the top of the queue and converts it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.roles import Role
from ketaclinic.conftest import make_user, sign_in
from ketaclinic.intake.models import ConsultationRequest, Status
from ketaclinic.scheduling.models import AppointmentType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_strangers_urgent_request_reaches_the_top_of_the_queue_and_is_converted(
    chromium, live_server, settings, transactional_db
):
    settings.CRISIS_LINE, settings.EMERGENCY_NUMBER = "988", "911"
    make_user("frontdesk", Role.FRONT_DESK)
    phone = chromium.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    phone.set_default_timeout(10_000)
    page = phone.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/request/")
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Marsh")
    page.get_by_label("Date of birth").fill("1992-03-14")
    page.get_by_label("Email").fill("lena@example.org")
    page.get_by_label("Phone").fill("555 010 3333")
    page.get_by_label("State or region").fill("Oregon")
    page.get_by_label("Depression with thoughts of suicide").check()
    page.get_by_label("How should we contact you?").select_option("phone")
    page.get_by_label("I am having thoughts of ending my life").check()
    page.get_by_label("The clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You do not have to wait for us")
    expect(alert.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
    reference = ConsultationRequest.objects.get().reference
    expect(page.get_by_text(reference)).to_be_visible()
    assert errors == []
    phone.close()

    desk = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(10_000)
    page = desk.new_page()
    sign_in(page, "frontdesk")
    page.goto("/patients/")
    banner = page.get_by_role("alert", name="Urgent safety items")
    expect(banner).to_contain_text(reference)
    banner.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    page.get_by_label("Sex (for the record)").select_option("female")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("link", name="Book the consultation")).to_be_visible()
    page.get_by_role("link", name="Book the consultation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lena Marsh")
    stored = ConsultationRequest.objects.get()
    assert stored.status == Status.CONVERTED
    expect(page.get_by_label("Visit")).to_have_value(
        str(AppointmentType.objects.get(code="consultation").pk)
    )
    desk.close()
