"""Who may do what with screenings and plans (rows of accounts/permissions.py): prescribers
sign; nurses record screenings but sign nothing; front desk sees a plan's course but not its
doses; patients read their own plan; another patient's is not found."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.permissions import PERMISSIONS
from ketaclinic.accounts.roles import Role
from ketaclinic.conftest import signed_in
from ketaclinic.plans.models import PlanStatus
from ketaclinic.plans.tests.helpers import (
    active_plan,
    draft_plan,
    post_json,
    signed_screening,
    with_depression_history,
)


@pytest.fixture
def plans(prescriber, patient_a, weight_of):
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "70.0", days_ago=1)
    active = active_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    draft = draft_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    return active, draft


def test_the_matrix_rows_say_who_signs_and_who_sees_doses():
    assert PERMISSIONS["screening.sign"] == {Role.PRESCRIBER}
    assert PERMISSIONS["plan.sign"] == {Role.PRESCRIBER}
    assert Role.NURSE in PERMISSIONS["screening.record"]
    assert Role.FRONT_DESK in PERMISSIONS["plan.view"]
    assert Role.FRONT_DESK not in PERMISSIONS["plan.view_dose"]
    assert Role.FRONT_DESK not in PERMISSIONS["screening.view"]


def test_a_nurse_cannot_sign_a_plan(nurse, patient_a, plans):
    _, draft = plans

    response = post_json(
        signed_in(nurse), f"/api/v1/patients/{patient_a.pk}/plans/{draft.pk}/sign", {}
    )

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT


def test_a_nurse_cannot_create_a_plan(nurse, patient_a, plans):
    active, _ = plans
    body = {
        "screening_id": active.screening_id,
        "protocol": "iv_racemic",
        "dose_mg_per_kg": 0.5,
        "start_date": "2030-01-07",
    }

    response = post_json(signed_in(nurse), f"/api/v1/patients/{patient_a.pk}/plans", body)

    assert response.status_code == 403
    assert signed_in(nurse).get(f"/patients/{patient_a.pk}/plans/new/").status_code == 403


def test_front_desk_sees_the_course_but_not_the_dose(front_desk, patient_a, plans):
    active, _ = plans
    client = signed_in(front_desk)

    body = client.get(f"/api/v1/patients/{patient_a.pk}/plans/{active.pk}").json()
    page = client.get(f"/patients/{patient_a.pk}/plans/{active.pk}/")
    tab = client.get(f"/patients/{patient_a.pk}/tab/screening-plan/")

    assert body["dose"] is None
    assert len(body["sessions"]) == 6
    assert page.status_code == 200
    text = page.content.decode()
    assert "#6" in text
    assert "mg/kg" not in text
    assert " mg" not in text.replace("img", "")
    assert "Dose history" not in text
    assert tab.status_code == 200
    assert "mg/kg" not in tab.content.decode()
    assert "Screenings" not in tab.content.decode()


def test_front_desk_cannot_open_a_screening(front_desk, patient_a, plans):
    active, _ = plans

    response = signed_in(front_desk).get(
        f"/patients/{patient_a.pk}/screenings/{active.screening_id}/"
    )

    assert response.status_code == 403


def test_a_patient_reads_their_own_plan_through_the_api_only(patient_a, patient_b, plans):
    active, _ = plans

    own = signed_in(patient_a.user).get(f"/api/v1/patients/{patient_a.pk}/plans/{active.pk}")
    other = signed_in(patient_b.user).get(f"/api/v1/patients/{patient_a.pk}/plans/{active.pk}")
    page = signed_in(patient_a.user).get(f"/patients/{patient_a.pk}/plans/{active.pk}/")
    write = post_json(
        signed_in(patient_a.user),
        f"/api/v1/patients/{patient_a.pk}/plans/{active.pk}/status",
        {"status": "stopped", "reason": "I want to"},
    )

    assert own.status_code == 200
    assert own.json()["dose"]["dose_mg"] == 35
    assert other.status_code == 404
    assert page.status_code == 302
    assert page["Location"] == "/portal/"
    assert write.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "plans/new/",
        "plans/{plan}/",
        "screenings/new/",
        "screenings/{screening}/",
        "tab/screening-plan/",
    ],
)
def test_another_patients_pages_are_not_found(patient_a, patient_b, outsider, plans, path):
    active, _ = plans
    url = f"/patients/{patient_a.pk}/" + path.format(plan=active.pk, screening=active.screening_id)

    assert signed_in(patient_b.user).get(url).status_code == 404
    assert signed_in(outsider).get(url).status_code == 404


def test_a_plan_of_patient_a_is_not_found_under_patient_b(prescriber, patient_b, plans):
    active, _ = plans

    response = signed_in(prescriber).get(f"/patients/{patient_b.pk}/plans/{active.pk}/")

    assert response.status_code == 404
