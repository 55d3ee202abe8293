"""A signed plan's dose changes only by amendment: the signed dose stays, each change is a row
with old and new dose, reason, who and when; the plan flags dose creep."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.conftest import signed_in
from ketaclinic.plans.models import PlanDoseChange
from ketaclinic.plans.tests.helpers import (
    active_plan,
    draft_plan,
    fields_of,
    last_event,
    post_json,
    signed_screening,
    with_depression_history,
)


@pytest.fixture
def plan(prescriber, patient_a, weight_of):
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "80.0", days_ago=1)
    return active_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))


def amend(user, plan, **body):
    return post_json(
        signed_in(user),
        f"/api/v1/patients/{plan.patient_id}/plans/{plan.pk}/dose-changes",
        {"reason": "Partial response", **body},
    )


def test_an_amendment_keeps_the_signed_dose_and_flags_the_escalation(prescriber, plan):
    response = amend(prescriber, plan, dose_mg_per_kg=0.6, from_session=3)

    assert response.status_code == 201
    plan.refresh_from_db()
    assert (plan.dose_mg, plan.dose_mg_per_kg) == (Decimal("40.0"), Decimal("0.5"))
    change = PlanDoseChange.objects.get()
    assert (change.old_dose_mg, change.new_dose_mg) == (Decimal("40.0"), Decimal("48.0"))
    assert change.changed_by == prescriber
    assert change.from_session == 3
    dose = response.json()["dose"]
    assert dose["current_dose_mg"] == 48
    assert [step["from_session"] for step in dose["history"]] == [1, 3]
    assert dose["creep"]["escalations"] == [
        {
            "session_number": 3,
            "previous_session_number": 1,
            "previous_dose": 0.5,
            "dose": 0.6,
            "unit": "mg/kg",
            "rise_pct": 20.0,
        }
    ]
    assert dose["creep"]["total_rise_pct"] == 20.0
    event = last_event("plan.amend_dose")
    assert event.detail["dose_mg"] == ["40.0", "48.0"]
    assert event.detail["reason"] == "Partial response"


def test_each_escalation_and_the_total_rise_are_flagged(prescriber, plan):
    amend(prescriber, plan, dose_mg_per_kg=0.6, from_session=3)
    amend(prescriber, plan, dose_mg_per_kg=0.55, from_session=4)
    response = amend(prescriber, plan, dose_mg_per_kg=0.75, from_session=6)

    creep = response.json()["dose"]["creep"]
    assert [e["session_number"] for e in creep["escalations"]] == [3, 6]
    assert creep["total_rise_pct"] == 50.0
    assert PlanDoseChange.objects.count() == 3

    page = signed_in(prescriber).get(f"/patients/{plan.patient_id}/plans/{plan.pk}/")
    text = page.content.decode()
    assert "Dose creep" in text
    assert "+50.0%" in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dose_mg_per_kg": 0.6, "from_session": 3, "reason": ""}, "reason"),
        ({"dose_mg_per_kg": 1.5, "from_session": 3}, "dose_mg_per_kg"),
        ({"dose_mg_per_kg": 0.6, "from_session": 1}, "from_session"),
        ({"dose_mg_per_kg": 0.6, "from_session": 9}, "from_session"),
    ],
)
def test_bad_amendments_are_refused_and_nothing_changes(prescriber, plan, body, field):
    response = amend(prescriber, plan, **body)

    assert response.status_code == 422
    assert fields_of(response) == {field}
    assert not PlanDoseChange.objects.exists()


def test_an_out_of_range_amendment_with_an_override_is_recorded_with_it(prescriber, plan):
    response = amend(
        prescriber, plan, dose_mg_per_kg=1.2, from_session=4, override_reason="Anaesthetist on site"
    )

    assert response.status_code == 201
    change = PlanDoseChange.objects.get()
    assert change.override_reason == "Anaesthetist on site"
    assert "Anaesthetist on site" in change.warnings[0]
    assert last_event("plan.amend_dose").detail["override_reason"] == "Anaesthetist on site"


def test_only_an_active_plan_is_amended(prescriber, patient_a, plan):
    draft = draft_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))

    response = amend(prescriber, draft, dose_mg_per_kg=0.6, from_session=3)

    assert response.status_code == 422
    assert fields_of(response) == {"status"}


def test_nurses_do_not_change_doses_and_other_patients_see_nothing(
    nurse, patient_b, outsider, plan
):
    assert amend(nurse, plan, dose_mg_per_kg=0.6, from_session=3).status_code == 403
    assert amend(patient_b.user, plan, dose_mg_per_kg=0.6, from_session=3).status_code == 404
    assert amend(outsider, plan, dose_mg_per_kg=0.6, from_session=3).status_code == 404
    assert not PlanDoseChange.objects.exists()
