"""The dashboard's figures against a small hand-computed cohort.

Four TRD courses by IV (PHQ-9), sessions on day 0, 2, 4, 7, 9, 11 from Monday 3 March 2025:
    P1 20 -> 6    response, no remission, relapse at day 67 (56 days after induction)
    P2 16 -> 3    response and remission, still responding at day 40 (censored, 29 days)
    P3 18 -> 12   no response
    P4 (no baseline) not evaluable
So response 2/3, remission 1/3 over evaluable courses; 24 sessions, 2 adverse events (one
serious) and 3 vital-sign alerts: 8.33 and 12.50 per 100 sessions.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.formats import number_format

from ketaclinic.analytics.statistics import wilson_interval
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.outcomes.tests.factories import (
    adverse_event,
    give_sessions,
    make_plan,
    scores,
    vital_alert,
)

DASHBOARD = reverse("analytics:dashboard")
DAY_0 = dt.date(2025, 3, 3)


def day(n: int) -> dt.date:
    return DAY_0 + dt.timedelta(days=n)


@pytest.fixture
def cohort(prescriber, nurse):
    plan_scores = [
        [(-3, 18), (0, 20), (4, 14), (7, 10), (11, 6), (12, 6), (39, 8), (67, 14)],
        [(-1, 16), (5, 7), (12, 3), (40, 4)],
        [(0, 18), (12, 12)],
        [(5, 15), (12, 9)],
    ]
    sessions = []
    for k, pairs in enumerate(plan_scores, start=1):
        patient = make_patient(f"P{k}", "Cohort")
        plan = make_plan(patient, prescriber, start=DAY_0)
        sessions += give_sessions(plan, nurse)
        scores(patient, "phq9", nurse, *[(day(n), t) for n, t in pairs])
    adverse_event(sessions[0], nurse)
    adverse_event(sessions[7], nurse, serious=True)
    vital_alert(sessions[1])
    vital_alert(sessions[2])
    vital_alert(sessions[20])
    return sessions


def pct(value: float) -> str:
    return number_format(round(100 * value, 1), 1)


def test_the_headline_rates_and_their_wilson_intervals(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD).content.decode()

    low, high = wilson_interval(2, 3)
    assert f"response (2/3; 95% CI {pct(low)}–{pct(high)}%)" in page
    low, high = wilson_interval(1, 3)
    assert f"remission (1/3; 95% CI {pct(low)}–{pct(high)}%)" in page
    assert "<strong>4</strong><span>courses (4 started, 3 with baseline and follow-up)" in page


def test_the_group_row_shows_counts_rates_intervals_and_the_literature(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD).content.decode()
    row = re.search(r'<tr data-group="trd-iv">(.*?)</tr>', page, re.S).group(1)

    low, high = wilson_interval(2, 3)
    assert "<strong>66.7%</strong>" in row
    assert "2/3" in row
    assert f"{pct(low)}–{pct(high)}%" in row
    assert "<strong>33.3%</strong>" in row
    assert "1/3" in row
    # Patient guides' claims and published figures, each with its source as a reader cites it.
    assert "Patient-guide claim" in row
    assert "60–70% response, ~40% remission" in row
    assert "&#x27;The Transformative Power of Ketamine Therapy&#x27;" in row
    assert "Published" in row
    assert "real world 53.6% response, 28.9% remission PHQ-9&lt;5" in row
    assert "McInnes et al., 2022, J Affect Disord, n=537" in row
    assert "Dean et al., 2021, Cochrane Database Syst Rev" in row


def test_time_to_response_and_durability(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD).content.decode()

    # Responders: P1 at day 7 after 3 sessions, P2 at day 5 after 3 sessions.
    assert "Among 2 courses that reached response: median <strong>6 days</strong>" in page
    assert "median of <strong>3 sessions</strong>" in page
    # Kaplan–Meier: P1 relapses at 56 days, P2 censored at 29: S(28) = 1, S(56) = 0.
    assert "2 courses responding at the end of induction; 1 relapsed" in page
    assert "Day 28: <strong>100.0%</strong> still responding" in page
    assert "Day 56: <strong>0.0%</strong> still responding" in page
    assert "published ~80%" in page
    assert "McInnes et al., 2022" in page


def test_completeness_and_safety_rates_per_100_sessions(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD).content.decode()

    # Complete: a baseline and a score within 7 days after the last session (day 12):
    # P1, P2, P3 yes; P4 has no baseline.
    assert "<strong>75.0%</strong><span>of started courses with complete measurement (3/4)" in page
    assert "<strong>8.33</strong><span>adverse events per 100 sessions (2 in 24; 1 serious)" in page
    assert "<strong>12.50</strong><span>vital-sign alerts per 100 sessions (3)" in page


def test_the_figures_are_drawn_with_the_local_plotly(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD).content.decode()

    for element in ("plot-response", "plot-remission", "plot-ttr", "plot-durability"):
        assert f'id="{element}"' in page
        assert f'id="{element}-data"' in page
    assert "/static/vendor/plotly-basic.min.js" in page
    assert "cdn" not in page.lower()


def test_filters_narrow_the_cohort(cohort, prescriber):
    page = signed_in(prescriber).get(DASHBOARD, {"indication": "ptsd"}).content.decode()

    assert "No courses match." in page


def test_an_inverted_date_range_is_422(cohort, prescriber):
    response = signed_in(prescriber).get(DASHBOARD, {"start": "2025-05-01", "end": "2025-01-01"})

    assert response.status_code == 422
    assert "The start date is after the end date." in response.content.decode()


def test_an_empty_clinic_renders(prescriber):
    page = signed_in(prescriber).get(DASHBOARD)

    assert page.status_code == 200
    assert "No courses match." in page.content.decode()
