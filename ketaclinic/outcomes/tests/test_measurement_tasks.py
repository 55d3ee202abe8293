"""Measures due per the schedule become tasks on the chart and the staff worklist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ketaclinic.conftest import signed_in
from ketaclinic.outcomes import services
from ketaclinic.outcomes.models import MeasurementTask, TaskStatus
from ketaclinic.outcomes.tests.factories import make_plan, scores, today
from ketaclinic.plans.models import PlannedSession

WORKLIST = reverse("outcomes:worklist")


@pytest.fixture
def plan(patient_a, prescriber):
    return make_plan(patient_a, prescriber, start=today() - dt.timedelta(days=5), status="active")


def test_syncing_a_plan_schedules_its_primary_and_secondary_instruments(plan):
    created = services.tasks_sync(plan)

    tasks = MeasurementTask.objects.filter(plan=plan)
    assert created["created"] == tasks.count() > 0
    assert set(tasks.values_list("instrument_id", flat=True)) == {"phq9", "gad7"}
    assert tasks.filter(reason="baseline", instrument_id="phq9").get().due_on == plan.start_date


def test_syncing_twice_changes_nothing(plan):
    services.tasks_sync(plan)
    before = list(MeasurementTask.objects.values_list("id", "status"))

    assert services.tasks_sync(plan) == {"created": 0, "cancelled": 0}
    assert list(MeasurementTask.objects.values_list("id", "status")) == before


def test_moving_a_session_cancels_the_stale_measure_and_adds_the_new_one(plan):
    services.tasks_sync(plan)
    last = PlannedSession.objects.filter(plan=plan).order_by("-number").first()
    last.date += dt.timedelta(days=3)
    last.save()

    result = services.tasks_sync(plan)

    assert result["cancelled"] >= 1
    assert result["created"] >= 1
    assert MeasurementTask.objects.filter(status=TaskStatus.CANCELLED).exists()


def test_answers_already_given_in_a_window_fulfil_the_new_measure(plan, patient_a, nurse):
    scores(patient_a, "phq9", nurse, (plan.start_date - dt.timedelta(days=1), 18))

    services.tasks_sync(plan)

    baseline = MeasurementTask.objects.get(plan=plan, instrument_id="phq9", reason="baseline")
    assert baseline.status == TaskStatus.DONE


def test_the_worklist_shows_due_and_overdue_measures(plan, patient_a, nurse):
    page = signed_in(nurse).get(WORKLIST).content.decode()

    assert patient_a.full_name in page
    assert "overdue" in page
    assert "Baseline, before the first session" in page


def test_the_worklist_filters_to_my_care_team_patients(plan, patient_a, patient_b, nurse):
    make_plan(patient_b, plan.signed_by, start=today() - dt.timedelta(days=5), status="active")
    from ketaclinic.outcomes.tests.factories import add_prescriber

    add_prescriber(patient_a, nurse)

    page = signed_in(nurse).get(WORKLIST + "?who=mine").content.decode()

    assert patient_a.full_name in page
    assert patient_b.full_name not in page


def test_the_worklist_query_count_stays_flat(
    plan, patient_b, prescriber, nurse, django_assert_max_num_queries
):
    client = signed_in(nurse)
    client.get(WORKLIST)
    make_plan(patient_b, prescriber, start=today() - dt.timedelta(days=5), status="active")
    client.get(WORKLIST)

    with django_assert_max_num_queries(14):
        assert client.get(WORKLIST).status_code == 200


def test_the_chart_tab_lists_the_measures_due(plan, patient_a, nurse):
    page = (
        signed_in(nurse)
        .get(reverse("patients:chart_tab", kwargs={"patient_id": patient_a.pk, "tab": "outcomes"}))
        .content.decode()
    )

    assert 'id="due-measures"' in page
    assert "Patient Health Questionnaire-9 (PHQ-9)" in page
