"""The REMS pages cost a pinned number of queries, however many forms are listed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.conftest import signed_in
from ketaclinic.inventory.tests.helpers import plan_for

from .rems_makers import certify, esketamine_session

LIST_QUERIES = 11
FORM_QUERIES = 22


@pytest.mark.parametrize("sessions", [1, 5])
def test_the_rems_lists_cost_the_same_for_one_form_or_many(
    patient_a, prescriber, nurse, django_assert_max_num_queries, sessions
):
    plan = plan_for(patient_a, prescriber, "esketamine")
    for days_ago in range(sessions):
        day = timezone.localdate() - dt.timedelta(days=3 + 3 * days_ago)
        esketamine_session(patient_a, prescriber, nurse, day=day, plan=plan)
    client = signed_in(nurse)
    client.get("/")
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get("/rems/").status_code == 200
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get("/rems/overdue/").status_code == 200


def test_the_form_page_costs_a_pinned_number_of_queries(
    patient_a, prescriber, nurse, django_assert_max_num_queries
):
    day = timezone.localdate() - dt.timedelta(days=1)
    certify(prescriber, day)
    session = esketamine_session(patient_a, prescriber, nurse, day=day)
    client = signed_in(nurse)
    client.get("/")
    with django_assert_max_num_queries(FORM_QUERIES):
        assert client.get(f"/rems/sessions/{session.pk}/").status_code == 200
