"""A real journey in Chromium: a nurse runs a whole demo IV session — checklist, start, one
rate change, vitals with a high blood pressure alert acknowledged, a side effect, discharge —
and the patient's chart shows it in the Sessions tab."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.models import User
from ketaclinic.charting.models import (
    ChecklistEntry,
    InfusionEvent,
    SafetyAlert,
    SideEffect,
    TreatmentSession,
    VitalReading,
)
from ketaclinic.conftest import sign_in
from ketaclinic.demo import clinic
from ketaclinic.demo import sessions as demo_sessions
from ketaclinic.patients.models import Patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def visit(transactional_db):
    clinic.load(patients=6)
    users = {u.username: u for u in User.objects.all()}
    return demo_sessions.ready_iv_visit(Patient.objects.get(mrn="DEMO0004"), users)


def hour_passes(session: TreatmentSession, minutes: int = 70) -> None:
    """Observation takes an hour: move the whole session back in time instead of waiting."""
    shift = dt.timedelta(minutes=minutes)
    TreatmentSession.objects.filter(pk=session.pk).update(
        opened_at=session.opened_at - shift,
        dose_started_at=session.dose_started_at - shift,
        dose_ended_at=session.dose_ended_at - shift,
    )
    for model in (InfusionEvent, VitalReading, SideEffect, ChecklistEntry):
        for row in model.objects.filter(session=session):
            model.objects.filter(pk=row.pk).update(at=row.at - shift)
    for alert in SafetyAlert.objects.filter(session=session):
        SafetyAlert.objects.filter(pk=alert.pk).update(
            raised_at=alert.raised_at - shift, acknowledged_at=alert.acknowledged_at - shift
        )


def confirm(page, code: str) -> None:
    """Confirm an item on the day, unless the record already answered it (a PHQ-9 done)."""
    item = page.locator(f"#item-{code}")
    if item.get_attribute("data-state") == "passed":
        return
    item.get_by_role("button", name="Confirm").click()
    expect(page.locator(f"#item-{code}")).to_have_attribute("data-state", "passed")


def test_a_nurse_runs_a_whole_iv_session_and_the_chart_shows_it(page, visit):
    patient = visit.patient
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "nurse", clinic.DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    # The chart offers today's checked-in visit; the nurse opens its session.
    page.goto(f"/patients/{patient.pk}/tab/sessions/")
    page.get_by_role("button", name="Open session").click()
    expect(page.get_by_role("heading", name=f"IV session 1: {patient.full_name}")).to_be_visible()
    expect(page.locator("#gate-state")).to_contain_text("block the start")
    expect(page.locator("#item-fasting_confirmed")).to_have_attribute("data-state", "passed")

    # Pre-treatment vitals, then the items a clinician confirms on the day.
    entry = page.locator("#panel-vitals-entry")
    entry.get_by_label("Systolic (mmHg)").fill("124")
    entry.get_by_label("Diastolic (mmHg)").fill("78")
    entry.get_by_label("Heart rate (/min)").fill("72")
    entry.get_by_label("SpO2 (%)").fill("98")
    entry.get_by_role("button", name="Record vital signs").click()
    expect(page.locator("#item-pre_treatment_vitals")).to_have_attribute("data-state", "passed")
    for code in ("identity_confirmed", "pregnancy_status", "phq9_today", "consent_on_file"):
        confirm(page, code)
    dose_check = page.locator("#item-dose_double_checked")
    dose_check.get_by_label("Second clinician for dose double-checked").select_option(
        label="Maya Chen, MD"
    )
    # The second clinician signs the check with their own password.
    dose_check.get_by_label("Second clinician's own password for dose double-checked").fill(
        clinic.DEMO_PASSWORD
    )
    dose_check.get_by_role("button", name="Confirm").click()
    expect(page.locator("#item-dose_double_checked")).to_contain_text("and Maya Chen, MD")
    expect(page.locator("#gate-state")).to_have_text("ready to start")

    page.get_by_role("button", name="Start dosing").click()
    expect(page.locator("#session-status")).to_have_text("Dosing")
    expect(page.locator("#infusion-events")).to_contain_text("Start")

    # One rate change, with its reason.
    administration = page.locator("#panel-administration")
    administration.get_by_label("Event").select_option("rate_change")
    administration.get_by_label("New rate (mg/min)").fill("0.5")
    administration.get_by_label("Why (rate change").fill("Anxious; slowing down")
    administration.get_by_role("button", name="Record infusion event").click()
    expect(page.locator("#infusion-events")).to_contain_text("Anxious; slowing down")

    # A high blood pressure raises an alert at once; the nurse acknowledges it.
    entry = page.locator("#panel-vitals-entry")
    entry.get_by_label("Systolic (mmHg)").fill("186")
    entry.get_by_label("Diastolic (mmHg)").fill("104")
    entry.get_by_role("button", name="Record vital signs").click()
    alert = page.locator("#panel-alerts .alert-box")
    expect(alert).to_contain_text("Blood pressure high")
    expect(alert).to_contain_text("Basis:")
    alert.get_by_label("What was done about blood pressure high").fill(
        "Rechecked in 5 min; rate kept low"
    )
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#acknowledged-alerts")).to_contain_text("Jordan Reyes, RN")
    expect(page.locator("#acknowledged-alerts")).to_contain_text("Rechecked in 5 min")

    # A side effect from the vocabulary.
    observations = page.locator("#panel-observations")
    observations.get_by_label("Side effect").select_option("nausea")
    observations.get_by_label("Severity").select_option("mild")
    observations.get_by_label("Action taken").fill("Reassured, window opened")
    observations.get_by_role("button", name="Record side effect").click()
    expect(page.locator("#side-effects")).to_contain_text("Nausea")

    # The patient asks to stop early; observation begins and discharge is still blocked.
    administration = page.locator("#panel-administration")
    administration.get_by_label("Event").select_option("stop")
    administration.get_by_label("Why (rate change").fill("Patient asked to stop")
    administration.get_by_role("button", name="Record infusion event").click()
    expect(page.locator("#session-status")).to_have_text("Observation")
    expect(page.locator("#discharge-blockers")).to_contain_text("Observation of 60 min")
    delivered = page.locator("#delivered-mg").inner_text()

    # An hour of observation later, the nurse ticks the criteria and signs.
    hour_passes(TreatmentSession.objects.get(appointment=visit))
    page.reload()
    expect(page.locator("#discharge-blockers")).to_have_count(0)
    discharge = page.locator("#panel-discharge")
    for label in (
        "Vital signs back to baseline without oxygen",
        "Alert and oriented",
        "Little or no nausea",
        "Responsible adult present to take the patient home",
        "Written instructions on driving given",
    ):
        discharge.get_by_label(label).check()
    discharge.get_by_label("Whom to call after leaving").fill("Clinic line 860-555-0100")
    discharge.get_by_role("button", name="Sign discharge").click()
    expect(page.locator("#session-status")).to_have_text("Discharged")
    expect(page.locator("#instructions")).to_contain_text("No driving for the rest of the day.")
    expect(page.locator("#instructions")).to_contain_text("Clinic line 860-555-0100")

    # The chart shows it all.
    page.goto(f"/patients/{patient.pk}/tab/sessions/")
    row = page.locator("#sessions tbody tr").first
    expect(row).to_contain_text("Discharged")
    expect(row).to_contain_text(delivered)
    expect(row.locator("td").nth(5)).to_have_text("1")
    expect(row.locator("td").nth(6)).to_have_text("1")
    assert errors == [], "no script error on the way"
