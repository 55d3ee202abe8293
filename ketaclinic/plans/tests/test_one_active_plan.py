"""One active plan per patient: the database refuses a second, the API answers 409 and the
page says why."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from ketaclinic.audit.models import Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.plans.tests.helpers import (
    active_plan,
    draft_plan,
    last_event,
    post_json,
    signed_screening,
    with_depression_history,
)


@pytest.fixture
def two_plans(prescriber, patient_a, weight_of):
    """An active plan and a second draft (on a fresh screening) for patient A."""
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "70.0", days_ago=1)
    first = active_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    second = draft_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    return first, second


def test_the_database_refuses_a_second_active_plan(two_plans, prescriber):
    first, second = two_plans

    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=second.pk).update(
            status=PlanStatus.ACTIVE, signed_by=prescriber, signed_at=first.signed_at
        )

    second.refresh_from_db()
    assert second.status == PlanStatus.DRAFT


def test_signing_a_second_plan_answers_409(two_plans, prescriber, patient_a):
    first, second = two_plans

    response = post_json(
        signed_in(prescriber), f"/api/v1/patients/{patient_a.pk}/plans/{second.pk}/sign", {}
    )

    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"message", "errors"}
    assert "already has an active plan" in body["message"]
    second.refresh_from_db()
    assert second.status == PlanStatus.DRAFT
    assert not second.planned_sessions.exists()
    event = last_event("plan.sign")
    assert event.outcome == Outcome.REFUSED
    assert event.detail["active_plan"] == first.pk


def test_the_plan_page_says_why_it_was_not_signed(two_plans, prescriber, patient_a):
    _, second = two_plans

    response = signed_in(prescriber).post(
        f"/patients/{patient_a.pk}/plans/{second.pk}/sign/", follow=True
    )

    assert response.status_code == 200
    assert "already has an active plan" in response.content.decode()


def test_once_the_first_is_completed_the_second_can_be_signed(two_plans, prescriber, patient_a):
    first, second = two_plans
    client = signed_in(prescriber)
    done = post_json(
        client,
        f"/api/v1/patients/{patient_a.pk}/plans/{first.pk}/status",
        {"status": "completed"},
    )
    assert done.status_code == 200

    response = post_json(client, f"/api/v1/patients/{patient_a.pk}/plans/{second.pk}/sign", {})

    assert response.status_code == 200
    first.refresh_from_db()
    assert first.status == PlanStatus.COMPLETED
    assert last_event("plan.completed").detail["status"] == ["active", "completed"]


def test_ended_plans_do_not_come_back(two_plans, prescriber, patient_a):
    first, _ = two_plans
    client = signed_in(prescriber)
    url = f"/api/v1/patients/{patient_a.pk}/plans/{first.pk}/status"
    assert post_json(client, url, {"status": "stopped"}).status_code == 422  # needs a reason
    assert post_json(client, url, {"status": "stopped", "reason": "Mania"}).status_code == 200

    again = post_json(client, url, {"status": "completed"})

    assert again.status_code == 422
    first.refresh_from_db()
    assert (first.status, first.end_reason) == (PlanStatus.STOPPED, "Mania")
