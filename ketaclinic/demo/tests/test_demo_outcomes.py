"""The demo's outcome data: histories for the 40 demo patients, and the large cohort."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from ketaclinic.analytics.cohort import build_cohort
from ketaclinic.analytics.summary import summarise
from ketaclinic.audit import trail
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo import cohort
from ketaclinic.outcomes.models import MeasurementTask, Response, ResponseStatus, SafetyTask
from ketaclinic.patients.models import Patient


@pytest.fixture
def demo(db):
    """The 40 detailed demo patients only (the default cohort is tested on its own)."""
    call_command("demo", "--quiet-logins", "--patients", "40")


def test_the_demo_patients_have_questionnaire_histories(demo):
    with_answers = Patient.objects.filter(
        outcome_responses__status=ResponseStatus.COMPLETED
    ).distinct()

    assert with_answers.count() >= 30
    assert Response.objects.filter(patient__mrn="DEMO0001").exists()
    assert Response.objects.filter(
        patient__mrn="DEMO0002", status=ResponseStatus.IN_PROGRESS
    ).exists()
    assert set(Response.objects.values_list("channel", flat=True)) >= {"portal", "paper", "phone"}


def test_the_demo_worklist_has_one_urgent_follow_up_and_the_active_plan_its_measures(demo):
    assert SafetyTask.objects.open().count() == 1
    assert MeasurementTask.objects.filter(plan__status="active").exists()


def test_the_demo_plans_under_way_have_sessions_and_a_trajectory(demo):
    plan_patients = Patient.objects.filter(
        plans__status__in=["active", "completed"],
        plans__planned_sessions__date__lt=timezone.localdate(),
    ).distinct()

    assert plan_patients.count() >= 5
    for patient in plan_patients:
        given = TreatmentSession.objects.filter(patient=patient).count()
        answered = patient.outcome_responses.completed().count()
        assert given >= 1, patient
        # A baseline before the first session; a trajectory once a few sessions are given.
        assert answered >= (3 if given >= 3 else 1), (patient, given, answered)


def test_a_large_cohort_is_added_in_bulk_and_only_once(demo):
    made = cohort.load_cohort(60)
    again = cohort.load_cohort(60)

    assert made["patients"] == 60
    assert made["courses"] >= 60
    assert made["responses"] > 300
    assert again == {"patients": 0, "courses": 0, "sessions": 0, "responses": 0}
    assert trail.verify() == []


def test_the_cohort_rates_land_near_the_published_ones(db):
    cohort.load_cohort(600)

    result = summarise(build_cohort())

    assert 0.40 < result.response.successes / result.response.n < 0.66
    assert 0.18 < result.remission.successes / result.remission.n < 0.40
    trd_iv = next(g for g in result.groups if (g.indication, g.route) == ("trd", "iv"))
    assert 0.40 < trd_iv.response.successes / trd_iv.response.n < 0.68
    assert result.km is not None
    assert result.km_n > 50
