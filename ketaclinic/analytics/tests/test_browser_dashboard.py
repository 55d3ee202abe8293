"""In Chromium: a prescriber opens a patient's trajectory plot and the clinic dashboard, and
the Plotly figures are drawn (not just the page)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.roles import Role
from ketaclinic.conftest import PASSWORD, make_patient, make_user, sign_in
from ketaclinic.outcomes.tests.factories import give_sessions, make_plan, scores, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db):
    prescriber = make_user("drchen", Role.PRESCRIBER, credentials="MD")
    nurse = make_user("rn", Role.NURSE)
    patients = []
    for k, (baseline, end) in enumerate([(20, 6), (18, 12), (16, 3), (22, 9)]):
        patient = make_patient(f"Pat{k}", "Plot")
        start = today() - dt.timedelta(days=40 + 3 * k)
        plan = make_plan(patient, prescriber, start=start)
        give_sessions(plan, nurse)
        scores(
            patient,
            "phq9",
            nurse,
            (start, baseline),
            (start + dt.timedelta(days=5), (baseline + end) // 2),
            (start + dt.timedelta(days=11), end),
            (start + dt.timedelta(days=12), end),
            (start + dt.timedelta(days=38), end + 1),
            plan=plan,
        )
        patients.append(patient)
    return patients


def trace_count(page, element_id: str) -> int:
    return page.evaluate(f"document.getElementById('{element_id}').data.length")


def test_the_prescriber_sees_the_trajectory_plot_with_session_markers(page, clinic):
    patient = clinic[0]
    sign_in(page, "drchen", PASSWORD)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Outcomes").click()

    plot = page.locator("#trajectory-phq9")
    expect(plot.locator(".main-svg").first).to_be_attached()
    # Score, session markers, response line, remission line.
    assert trace_count(page, "trajectory-phq9") == 4
    expect(plot.locator(".scatterlayer .trace")).to_have_count(4)
    expect(plot.locator(".legendtext")).to_contain_text(
        [
            "PHQ-9 total",
            "Treatment session (dose)",
            "Response line: ≤ 10 (50% fall from baseline 20)",
            "Remission line: ≤ 4",
        ]
    )
    # Six session lines and five band rectangles drawn as shapes.
    assert page.evaluate("document.getElementById('trajectory-phq9').layout.shapes.length") == 11


def test_the_trajectory_plot_is_drawn_on_a_direct_page_load_too(page, clinic):
    sign_in(page, "drchen", PASSWORD)
    page.goto(f"/patients/{clinic[1].pk}/tab/outcomes/")

    expect(page.locator("#trajectory-phq9 .main-svg").first).to_be_attached()


def test_the_prescriber_sees_the_dashboard_figures_drawn(page, clinic):
    sign_in(page, "drchen", PASSWORD)
    page.get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", name="Outcomes dashboard")).to_be_visible()
    for element in ("plot-response", "plot-remission", "plot-ttr", "plot-durability"):
        expect(page.locator(f"#{element} .main-svg").first).to_be_attached()
    # Clinic rate bars, published figures and seed claims.
    assert trace_count(page, "plot-response") == 3
    expect(page.locator("#plot-response .legendtext")).to_contain_text(
        ["This clinic (response, 95% CI)", "Published", "Patient-guide claim"]
    )
    expect(page.locator("#rates")).to_contain_text("McInnes et al., 2022, J Affect Disord")
    assert trace_count(page, "plot-durability") == 2

    page.get_by_label("Indication", exact=True).select_option("ptsd")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No courses match.")).to_be_visible()
