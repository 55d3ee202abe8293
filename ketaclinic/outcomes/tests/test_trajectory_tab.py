"""The chart's Outcomes tab: each instrument over time with bands, a marker at every session
with its dose, and the course's response and remission lines."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ketaclinic.charting.models import InfusionEvent
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes import services, trajectory
from ketaclinic.outcomes.tests.factories import give_sessions, make_plan, scores, today


def tab_url(patient) -> str:
    return reverse("patients:chart_tab", kwargs={"patient_id": patient.pk, "tab": "outcomes"})


@pytest.fixture
def course(patient_a, prescriber, nurse):
    start = today() - dt.timedelta(days=30)
    plan = make_plan(patient_a, prescriber, start=start)
    sessions = give_sessions(plan, nurse)
    scores(
        patient_a,
        "phq9",
        nurse,
        (start - dt.timedelta(days=1), 20),
        (start + dt.timedelta(days=4), 14),
        (start + dt.timedelta(days=12), 6),
        plan=plan,
    )
    return plan, sessions


def figure_of(page: str, code: str) -> dict:
    match = re.search(
        rf'<script id="trajectory-{code}-data" type="application/json">(.*?)</script>', page, re.S
    )
    assert match, f"no figure for {code}"
    return json.loads(match.group(1))


def test_the_tab_draws_each_instrument_with_sessions_and_the_outcome_lines(
    course, nurse, patient_a
):
    page = signed_in(nurse).get(tab_url(patient_a)).content.decode()
    figure = figure_of(page, "phq9")

    names = [trace["name"] for trace in figure["data"]]
    assert names[0].endswith("total")
    assert figure["data"][0]["y"] == [20, 14, 6]
    assert "Treatment session (dose)" in names
    assert "Response line: ≤ 10 (50% fall from baseline 20)" in names
    assert "Remission line: ≤ 4" in names
    sessions = next(t for t in figure["data"] if t["name"] == "Treatment session (dose)")
    assert len(sessions["x"]) == 6
    assert sessions["text"][0] == "Session 1: 35 mg IV (planned)"
    bands = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    lines = [s for s in figure["layout"]["shapes"] if s["type"] == "line"]
    assert len(bands) == 5
    assert len(lines) == 6
    assert "/static/vendor/plotly-basic.min.js" in page


def test_the_marker_shows_the_delivered_dose_when_the_infusion_is_charted(course, nurse, patient_a):
    _, sessions = course
    first = sessions[0]
    InfusionEvent.objects.create(
        session=first,
        at=first.dose_started_at,
        kind="start",
        rate_mg_per_min=Decimal("0.8"),
        recorded_by=nurse,
    )
    InfusionEvent.objects.create(
        session=first,
        at=first.dose_started_at + dt.timedelta(minutes=40),
        kind="stop",
        recorded_by=nurse,
    )

    marks = trajectory.session_marks(patient_a)

    assert (marks[0].dose_mg, marks[0].dose_kind) == (Decimal("32"), "delivered")
    assert marks[0].label == "Session 1: 32 mg IV"


def test_the_response_line_for_the_pcl5_is_ten_points_below_baseline(db):
    instrument = services.definition("pcl5").instrument

    assert trajectory.response_line(instrument, 50) == 40
    assert trajectory.response_line(services.definition("phq9").instrument, 15) == 7.5
    assert trajectory.response_line(services.definition("pain_nrs").instrument, 8) is None


def test_the_tab_has_a_printable_table_behind_each_plot(course, nurse, patient_a):
    page = signed_in(nurse).get(tab_url(patient_a)).content.decode()

    assert 'class="plot-fallback"' in page


def test_the_tab_loads_in_a_bounded_number_of_queries(
    course, nurse, patient_a, django_assert_max_num_queries
):
    client = signed_in(nurse)
    client.get(tab_url(patient_a))

    with django_assert_max_num_queries(30):
        assert client.get(tab_url(patient_a)).status_code == 200


def test_front_desk_does_not_see_the_outcomes_tab(course, front_desk, patient_a):
    assert signed_in(front_desk).get(tab_url(patient_a)).status_code == 403


def test_a_patient_reads_outcomes_on_the_portal_not_the_chart(course, patient_a, patient_b):
    assert signed_in(patient_a.user).get(tab_url(patient_a)).status_code == 302
    assert signed_in(patient_b.user).get(tab_url(patient_a)).status_code == 404


def test_patient_b_cannot_read_patient_as_responses_through_the_api(course, patient_a, patient_b):
    url = f"/api/v1/patients/{patient_a.pk}/outcomes/responses"

    assert signed_in(patient_b.user).get(url).status_code == 404
    own = signed_in(patient_a.user).get(url)
    assert own.status_code == 200
    assert [r["total"] for r in own.json()] == [6, 14, 20]


def test_patient_b_cannot_open_patient_as_confirmation_page(course, patient_a, patient_b):
    response = patient_a.outcome_responses.first()

    page = signed_in(patient_b.user).get(
        reverse("questionnaires:done", kwargs={"response_id": response.pk})
    )

    assert page.status_code == 404
