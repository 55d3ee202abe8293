"""The chart's tabs come from a registry: patients' own, and those later apps register from
their AppConfig.ready() (patients may not import them), in a fixed order."""

from __future__ import annotations

from ketaclinic.conftest import signed_in
from ketaclinic.patients import chart


def test_every_app_s_tab_is_registered_in_the_chart_s_order():
    assert list(chart.TABS) == [
        "summary",
        "history",
        "medications",
        "weights",
        "care-team",
        "screening-plan",
        "outcomes",
        "sessions",
        "intake",
        "portal",
        "reminders",
        "coverage",
        "charges",
        "imports",
        "changes",
    ]
    assert set(chart.TAB_LOADERS) == set(chart.TABS)


def test_registering_a_tab_again_keeps_its_place_and_replaces_its_loader(monkeypatch):
    monkeypatch.setattr(chart, "TABS", dict(chart.TABS))
    monkeypatch.setattr(chart, "TAB_LOADERS", dict(chart.TAB_LOADERS))
    order = list(chart.TABS)

    def loader(request, patient):
        return {}

    chart.register_tab("sessions", "Sessions", "session.view", loader, position=1)

    assert list(chart.TABS) == order
    assert chart.TAB_LOADERS["sessions"] is loader


def test_the_chart_shows_later_apps_tabs_the_role_may_open(prescriber, front_desk, patient_a):
    as_prescriber = signed_in(prescriber).get(f"/patients/{patient_a.pk}/")
    as_front_desk = signed_in(front_desk).get(f"/patients/{patient_a.pk}/")

    prescriber_tabs = [slug for slug, _ in as_prescriber.context["tabs"]]
    front_desk_tabs = [slug for slug, _ in as_front_desk.context["tabs"]]
    assert {"screening-plan", "outcomes", "sessions"} <= set(prescriber_tabs)
    assert "sessions" not in front_desk_tabs


def test_the_portal_shows_the_questionnaires_outcomes_registered(patient_a):
    response = signed_in(patient_a.user).get("/portal/")

    assert response.status_code == 200
    assert "questionnaires_due" in response.context
