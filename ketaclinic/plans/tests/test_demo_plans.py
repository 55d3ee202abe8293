"""`manage.py demo` adds screenings and plans in every state, once."""

from __future__ import annotations

from ketaclinic.demo import clinic
from ketaclinic.plans.models import PlanDoseChange, PlanStatus, TreatmentPlan
from ketaclinic.screening import services
from ketaclinic.screening.models import Screening


def test_the_demo_has_screenings_and_plans_in_every_state(db):
    clinic.load()

    screenings = list(Screening.objects.all())
    states = {(s.status, s.engine_decision, s.clinician_decision) for s in screenings}
    assert ("draft", "needs_review", "") in states or ("draft", "eligible", "") in states
    assert ("signed", "eligible", "eligible") in states
    assert ("signed", "needs_review", "eligible_with_reasoning") in states
    assert ("signed", "ineligible", "not_eligible") in states
    stale = [
        s
        for s in screenings
        if s.signed_eligible and any("since screening" in p for p in services.usability_problems(s))
    ]
    assert stale
    assert all(s.reasoning for s in screenings if s.clinician_decision == "eligible_with_reasoning")

    plans = {plan.status: plan for plan in TreatmentPlan.objects.all()}
    assert set(plans) == {PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.COMPLETED}
    assert PlanDoseChange.objects.filter(plan=plans[PlanStatus.ACTIVE]).exists()
    assert plans[PlanStatus.ACTIVE].dose_creep().escalations
    assert plans[PlanStatus.ACTIVE].planned_sessions.count() == 6
    assert plans[PlanStatus.COMPLETED].planned_sessions.count() == 6
    assert not plans[PlanStatus.DRAFT].planned_sessions.exists()
    assert not Screening.objects.filter(patient__mrn__lte="DEMO0010").exists()


def test_loading_the_demo_again_adds_no_screening_or_plan(db):
    clinic.load()
    counts = (Screening.objects.count(), TreatmentPlan.objects.count())

    clinic.load()

    assert (Screening.objects.count(), TreatmentPlan.objects.count()) == counts


def test_a_small_demo_has_no_scenarios_and_leaves_its_patients_unscreened(db):
    clinic.load(patients=6)

    assert not Screening.objects.exists()
