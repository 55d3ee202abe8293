"""In Chromium: a nurse discharges an esketamine session (two devices, 56 mg), confirms its
codes and downloads its superbill; the PDF bills G2082 (up to 56 mg delivered), never G2083."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ketaclinic.billing.models import ChargeLine
from ketaclinic.charting import administration_service, dose_service
from ketaclinic.charting.models import SessionStatus
from ketaclinic.charting.tests.session_makers import (
    ago,
    open_session,
    rems_ready,
    request_by,
    started,
)
from ketaclinic.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def observed(patient_a, prescriber, nurse):
    """Two devices given three hours ago; the session is in observation, ready to leave."""
    session = open_session(patient_a, prescriber, nurse, "esketamine", opened_minutes_ago=200)
    rems_ready(patient_a, prescriber)
    started(session, nurse, prescriber, minutes_ago=190)
    first = ago(185)
    for minutes in (0, 5):
        administration_service.device_record(
            request=request_by(nurse), session=session, at=first + dt.timedelta(minutes=minutes)
        )
    dose_service.dose_end(
        request=request_by(nurse), session=session, at=first + dt.timedelta(minutes=6)
    )
    session.refresh_from_db()
    return session


def test_a_nurse_discharges_an_esketamine_session_and_downloads_its_superbill(
    page, observed, nurse, tmp_path
):
    sign_in(page, nurse.username, PASSWORD)
    page.goto(f"/sessions/{observed.pk}/")
    expect(page.locator("#discharge-blockers")).to_have_count(0)
    discharge = page.locator("#panel-discharge")
    boxes = discharge.locator("input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    discharge.get_by_label("Whom to call after leaving").fill("Clinic line 860-555-0100")
    discharge.get_by_role("button", name="Sign discharge").click()
    expect(page.locator("#session-status")).to_have_text("Discharged")
    observed.refresh_from_db()
    assert observed.status == SessionStatus.DISCHARGED

    page.goto(f"/billing/sessions/{observed.pk}/superbill/")
    expect(page.get_by_role("heading", name="Superbill")).to_be_visible()
    proposed = page.get_by_role("heading", name="Awaiting confirmation").locator("..")
    expect(proposed).to_contain_text("G2082")
    expect(proposed).not_to_contain_text("G2083")
    page.get_by_role("button", name="Confirm codes").click()
    expect(page.get_by_role("heading", name="Awaiting confirmation")).to_have_count(0)
    expect(page.locator("table.list").first).to_contain_text("G2082")
    with page.expect_download() as downloading:
        page.locator("[data-superbill-pdf]").click()
    download = downloading.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    content = saved.read_bytes()
    assert content.startswith(b"%PDF")
    assert download.suggested_filename.startswith("superbill-")
    assert b"G2082" in content
    assert b"G2083" not in content
    assert b"F33.2" in content
    codes = set(ChargeLine.objects.filter(session=observed).values_list("code", flat=True))
    assert "G2082" in codes
    assert "G2083" not in codes
