"""In Chromium, under the Content-Security-Policy: the dashboard, a patient's outcomes tab
(loaded by htmx), a running session's concentration panel (loaded by htmx, Plotly loaded on
demand) and a plan's predicted curve all draw their Plotly charts, and the browser reports no
policy violation."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.roles import Role
from ketaclinic.charting.tests.session_makers import open_session, started
from ketaclinic.conftest import PASSWORD, make_user, sign_in
from ketaclinic.outcomes.tests.factories import give_sessions, make_plan, scores, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error it reports collected."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.add_init_script(WATCH_VIOLATIONS)
    page.csp_errors = errors
    return page


def assert_no_violation(page) -> None:
    assert page.evaluate("window.__cspViolations") == []
    policy_errors = [
        text for text in page.csp_errors if "Content Security Policy" in text or "Refused" in text
    ]
    assert policy_errors == []


@pytest.fixture
def clinic(patient_a, prescriber, nurse):
    """Scores for the dashboard and the outcomes tab, and a session running for 20 minutes."""
    start = today() - dt.timedelta(days=40)
    plan = make_plan(patient_a, prescriber, start=start)
    give_sessions(plan, nurse)
    scores(
        patient_a,
        "phq9",
        nurse,
        (start, 20),
        (start + dt.timedelta(days=11), 6),
        (start + dt.timedelta(days=38), 7),
        plan=plan,
    )
    return patient_a


@pytest.fixture
def running(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse, "iv")
    return started(session, nurse, prescriber, minutes_ago=20)


def test_the_dashboard_and_the_outcomes_tab_draw_under_the_policy(watched, clinic, prescriber):
    page = watched
    sign_in(page, "prescriber", PASSWORD)

    page.goto("/dashboard/")
    expect(page.locator("#plot-response .main-svg").first).to_be_attached()

    page.goto(f"/patients/{clinic.pk}/")
    tab = page.get_by_role("link", name="Outcomes")
    tab.click()  # an htmx swap
    expect(page.locator("#trajectory-phq9 .main-svg").first).to_be_attached()
    expect(tab).to_have_attribute("aria-current", "page")

    assert_no_violation(page)


def test_a_running_sessions_curve_and_its_plan_draw_under_the_policy(watched, running):
    page = watched
    sign_in(page, "nurse", PASSWORD)

    page.goto(f"/sessions/{running.pk}/")
    expect(page.locator("#session-pk-plot .main-svg").first).to_be_attached()

    page.goto(f"/patients/{running.patient_id}/plans/{running.plan_id}/")
    expect(page.locator("#pk-plot .main-svg").first).to_be_attached()

    assert_no_violation(page)


def test_an_inline_script_without_the_nonce_is_blocked(watched, nurse):
    """The policy is really enforced: the check above would pass on a page without one."""
    page = watched
    sign_in(page, "nurse", PASSWORD)

    page.goto("/patients/")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
    )

    assert page.evaluate("window.__ran === true") is False
    assert page.evaluate("window.__cspViolations.length") >= 1


def test_the_admin_and_the_api_docs_work_under_the_policy(watched, patient_a):
    make_user("owner", Role.PRESCRIBER, is_staff=True, is_superuser=True)
    page = watched
    sign_in(page, "owner", PASSWORD)

    page.goto(f"/admin/patients/patient/{patient_a.pk}/change/")
    expect(page.get_by_role("heading", name="View patient")).to_be_visible()

    page.goto("/api/v1/docs")
    # Swagger UI, from the installed package's static files, renders the schema's title.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ketaclinic API")

    assert_no_violation(page)
