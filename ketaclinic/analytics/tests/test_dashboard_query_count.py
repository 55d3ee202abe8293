"""The dashboard's query count does not grow with the cohort."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.outcomes.tests.factories import adverse_event, give_sessions, make_plan, scores

DASHBOARD = reverse("analytics:dashboard")
CSV = reverse("analytics:cohort_csv")
DAY_0 = dt.date(2025, 3, 3)
# Session, user, audit trail (3), prescriber choices, plans, sessions, responses, prescriber
# names, adverse events, alerts; a few to spare for the middleware.
MAX_QUERIES = 16


def add_courses(count: int, prescriber, nurse, offset: int = 0) -> None:
    for k in range(count):
        patient = make_patient(f"Q{offset + k}", "Count")
        plan = make_plan(
            patient,
            prescriber,
            start=DAY_0 + dt.timedelta(days=k % 20),
            indication=["trd", "ptsd", "anxiety"][k % 3],
        )
        sessions = give_sessions(plan, nurse)
        code = {"trd": "phq9", "ptsd": "pcl5", "anxiety": "gad7"}[plan.indication]
        scores(
            patient,
            code,
            nurse,
            (plan.start_date, 15),
            (plan.start_date + dt.timedelta(days=12), 6),
        )
        if k % 4 == 0:
            adverse_event(sessions[0], nurse)


def test_the_dashboard_query_count_is_flat_as_the_cohort_grows(
    prescriber, nurse, django_assert_max_num_queries
):
    client = signed_in(prescriber)
    add_courses(3, prescriber, nurse)
    client.get(DASHBOARD)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        assert client.get(DASHBOARD).status_code == 200

    add_courses(12, prescriber, nurse, offset=3)
    with django_assert_max_num_queries(MAX_QUERIES) as large:
        assert client.get(DASHBOARD).status_code == 200

    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_csv_export_query_count_is_flat_too(prescriber, nurse, django_assert_max_num_queries):
    client = signed_in(prescriber)
    add_courses(2, prescriber, nurse)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        client.get(CSV)
    add_courses(8, prescriber, nurse, offset=2)
    with django_assert_max_num_queries(MAX_QUERIES) as large:
        client.get(CSV)

    assert len(large.captured_queries) == len(small.captured_queries)
