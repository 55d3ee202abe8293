"""A running session's page left open in Chromium: its panels poll and swap (new readings,
the concentration curve redrawn) without a script error, and the chart's toolbar never
covers the chart's title."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.tests.session_makers import open_session, started
from ketaclinic.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_MS = 30_000


@pytest.fixture
def dosing(patient_a, prescriber, nurse):
    session = started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=20)
    reading(session, minutes_ago=10, heart_rate_bpm=74)
    return session


def reading(session, *, minutes_ago: float, **values) -> VitalReading:
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return VitalReading.objects.create(session=session, at=at, source="device", **values)


def until_held(page, held: list, tries: int = 200) -> None:
    """Wait (in Python, not on the page's clock) for the held request to reach the route."""
    for _ in range(tries):
        if held:
            return
        page.evaluate("0")  # lets Playwright dispatch the route handler
    raise AssertionError("Plotly's script was never requested")


def overlap(one: dict, other: dict) -> bool:
    return (
        one["x"] < other["x"] + other["width"]
        and other["x"] < one["x"] + one["width"]
        and one["y"] < other["y"] + other["height"]
        and other["y"] < one["y"] + one["height"]
    )


def test_the_open_page_polls_and_swaps_without_a_script_error(page, dosing, nurse):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    held = []  # Plotly's script, held back until the body has been swapped under it
    page.route("**/plotly-basic.min.js", lambda route: held.append(route))
    page.clock.install()
    sign_in(page, nurse.username)
    page.goto(f"/sessions/{dosing.pk}/")
    expect(page.locator("#session-pk-plot")).to_be_attached()
    expect(page.locator("script[data-plotly-loader]")).to_be_attached()
    until_held(page, held)

    # A write refreshes the whole body (the chart's panel with it) while Plotly loads.
    entry = page.locator("#panel-vitals-entry")
    entry.get_by_label("Heart rate (/min)").fill("90")
    entry.get_by_role("button", name="Record vital signs").click()
    expect(page.locator("#flow-sheet")).to_contain_text("90")
    held[0].continue_()
    expect(page.locator("#session-pk-plot .main-svg").first).to_be_visible()

    # Left open: the vitals panel and the chart poll and swap.
    for minutes, rate in ((2, 131), (1, 133)):
        reading(dosing, minutes_ago=minutes, heart_rate_bpm=rate)
        page.clock.run_for(POLL_MS + 1_000)
        expect(page.locator("#flow-sheet")).to_contain_text(str(rate))
        expect(page.locator("#session-pk-plot .main-svg").first).to_be_visible()

    assert errors == []


def test_the_chart_toolbar_leaves_the_title_clear(page, dosing, nurse):
    sign_in(page, nurse.username)
    page.goto(f"/sessions/{dosing.pk}/")
    plot = page.locator("#session-pk-plot")
    expect(plot.locator(".main-svg").first).to_be_visible()
    plot.hover()  # the toolbar shows while the pointer is over the chart
    title = plot.locator(".gtitle")
    toolbar = plot.locator(".modebar")
    expect(title).to_contain_text("Predicted concentration")
    expect(toolbar).to_be_visible()

    assert not overlap(title.bounding_box(), toolbar.bounding_box())
    # Still usable: its buttons are there.
    expect(toolbar.locator(".modebar-btn").first).to_be_visible()
