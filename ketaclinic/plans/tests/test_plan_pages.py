"""The screening and plan pages as a prescriber uses them: forms, what each page shows, what
is audited, and how many queries each costs (pinned, independent of the course's length)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.plans.models import PlanDoseChange, PlanStatus, TreatmentPlan
from ketaclinic.plans.services import plan_amend_dose
from ketaclinic.plans.tests.helpers import (
    active_plan,
    add_medication,
    add_therapist,
    request_by,
    screening_for,
    signed_screening,
    with_depression_history,
)
from ketaclinic.screening.models import Screening, ScreeningStatus

# Chart tab and plan page budgets; both stay flat however long the course or its history.
TAB_QUERIES = 14
# +1: a fixed-dose (esketamine) plan reads the current weight for the concentration curve.
# +1: the prior-authorization section (billing) reads the plan's authorization.
PLAN_PAGE_QUERIES = 14


@pytest.fixture
def ready(prescriber, therapist, patient_a, weight_of):
    with_depression_history(patient_a, prescriber)
    add_therapist(patient_a, therapist, prescriber)
    weight_of(patient_a, "70.0", days_ago=2)
    return patient_a


def text_of(response) -> str:
    return response.content.decode()


def test_the_screening_form_shows_what_the_record_says_with_its_basis(prescriber, ready):
    add_medication(ready, prescriber, "Lorazepam", "benzodiazepine")

    response = signed_in(prescriber).get(f"/patients/{ready.pk}/screenings/new/")

    assert response.status_code == 200
    page = text_of(response)
    assert "From the record" in page
    assert "medication Lorazepam (Benzodiazepine)" in page
    # history of psychosis, as every finding, cited as a reader cites it
    assert (
        "Source: 'The Transformative Power of Ketamine Therapy'; 'Ketamine Therapy: Types, "
        "Therapeutic Uses, Benefits, and Side Effects' (2022)" in html.unescape(page)
    )
    assert 'value="cns_depressants" checked disabled' in page
    assert AuditEvent.objects.filter(action="patient.view").first().detail == {
        "section": "screening-form"
    }


def test_a_screening_made_through_the_form_is_signed_on_its_page(prescriber, nurse, ready):
    response = signed_in(nurse).post(
        f"/patients/{ready.pk}/screenings/new/",
        {
            "route": "iv",
            "indication": "trd",
            "reported_findings": ["bipolar_disorder"],
            "systolic_mmhg": "132",
            "diastolic_mmhg": "84",
            "oral_antidepressant": "yes",
        },
    )
    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{ready.pk}/screenings/{screening.pk}/"
    assert screening.engine_decision == "needs_review"
    assert screening.answered_by == nurse

    detail = text_of(signed_in(prescriber).get(response["Location"]))
    assert "Needs review" in detail
    assert (
        "Source: 'The Transformative Power of Ketamine Therapy'; 'Benefits of Ketamine Therapy' "
        "(patient guides)" in html.unescape(detail)
    )

    without_reason = signed_in(prescriber).post(
        f"/patients/{ready.pk}/screenings/{screening.pk}/sign/",
        {"clinician_decision": "eligible"},
    )
    assert without_reason.status_code == 422
    assert "document the reasoning" in text_of(without_reason)

    signed = signed_in(prescriber).post(
        f"/patients/{ready.pk}/screenings/{screening.pk}/sign/",
        {
            "clinician_decision": "eligible_with_reasoning",
            "reasoning": "Euthymic for two years on lamotrigine.",
        },
    )
    assert signed.status_code == 302
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.SIGNED
    assert screening.signed_by == prescriber


def test_a_plan_made_through_the_form_is_signed_and_shows_its_course(prescriber, therapist, ready):
    screening = signed_screening(ready, prescriber)
    client = signed_in(prescriber)
    form = client.get(f"/patients/{ready.pk}/plans/new/")
    assert form.status_code == 200
    start = timezone.localdate() + dt.timedelta(days=3)

    response = client.post(
        f"/patients/{ready.pk}/plans/new/",
        {
            "screening": screening.pk,
            "protocol": "iv_racemic",
            "dose_mg_per_kg": "0.5",
            "infusion_minutes": "40",
            "schedule_code": "iv_induction",
            "start_date": start.isoformat(),
            "working_weekdays": ["0", "1", "2", "3", "4"],
            "psychotherapy_plan": "Integration after each infusion",
            "therapist": str(therapist.pk),
        },
    )

    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302, text_of(response)
    assert plan.status == PlanStatus.DRAFT
    detail = text_of(client.get(response["Location"]))
    assert "Proposed course (preview" in detail
    assert "35 mg" in detail

    signed = client.post(f"/patients/{ready.pk}/plans/{plan.pk}/sign/", follow=True)
    assert "Plan signed and active; 6 sessions proposed." in text_of(signed)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.planned_sessions.count() == 6


def test_a_refused_plan_form_says_why(prescriber, ready):
    screening = signed_screening(ready, prescriber)
    add_medication(ready, prescriber, "Zolpidem", "sedative_hypnotic")

    response = signed_in(prescriber).get(f"/patients/{ready.pk}/plans/new/")

    assert "No plan without a valid screening" in text_of(response)
    assert screening.pk not in [
        value for value, _ in response.context["form"].fields["screening"].choices
    ]


def test_the_tab_lists_screenings_with_whether_they_hold(prescriber, nurse, ready):
    signed_screening(ready, prescriber)
    screening_for(ready, nurse)
    stale = signed_screening(ready, prescriber)
    add_medication(ready, prescriber, "Tramadol", "opioid")

    response = signed_in(prescriber).get(f"/patients/{ready.pk}/tab/screening-plan/")

    assert response.status_code == 200
    page = text_of(response)
    assert "draft, not signed" in page
    assert "new medication in cns_depressants since screening" in page
    assert stale.pk in [row["screening"].pk for row in response.context["screenings"]]
    assert AuditEvent.objects.filter(action="patient.view").first().detail == {
        "section": "screening-plan"
    }


def test_amending_the_dose_on_the_page_keeps_the_history(prescriber, ready):
    plan = active_plan(ready, prescriber, signed_screening(ready, prescriber))

    response = signed_in(prescriber).post(
        f"/patients/{ready.pk}/plans/{plan.pk}/dose/",
        {"dose_mg_per_kg": "0.6", "from_session": "3", "reason": "Partial response"},
    )

    assert response.status_code == 302
    assert PlanDoseChange.objects.get().new_dose_mg == 42


@pytest.mark.parametrize("changes", [0, 4])
def test_the_plan_page_costs_a_pinned_number_of_queries(
    prescriber, ready, django_assert_max_num_queries, changes
):
    plan = active_plan(
        ready,
        prescriber,
        signed_screening(ready, prescriber, route="esketamine"),
        protocol="esketamine_trd",
        dose_mg_per_kg=None,
        dose_mg=56,
        schedule_code="esketamine_trd",
        horizon_weeks=16 if changes else 4,
    )
    if changes:
        for number in range(changes):
            plan_amend_dose(
                request=request_by(prescriber),
                plan=plan,
                reason=f"change {number}",
                dose_mg=84 if number % 2 == 0 else 56,
                from_session=2 + number,
            )
    client = signed_in(prescriber)
    client.get("/")  # session and user warm

    with django_assert_max_num_queries(PLAN_PAGE_QUERIES):
        response = client.get(f"/patients/{ready.pk}/plans/{plan.pk}/")

    assert response.status_code == 200


@pytest.mark.parametrize("screenings", [1, 5])
def test_the_tab_costs_a_pinned_number_of_queries(
    prescriber, ready, django_assert_max_num_queries, screenings
):
    for _ in range(screenings):
        signed_screening(ready, prescriber)
    active_plan(ready, prescriber, signed_screening(ready, prescriber))
    client = signed_in(prescriber)
    client.get("/")

    with django_assert_max_num_queries(TAB_QUERIES):
        response = client.get(f"/patients/{ready.pk}/tab/screening-plan/")

    assert response.status_code == 200
