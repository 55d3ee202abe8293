"""From screening to a signed plan through the API: screening created and signed, plan
created as a draft, signed, its proposed course stored apart from any booking."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from ketaclinic.conftest import signed_in
from ketaclinic.plans.models import PlannedSession, PlanStatus, TreatmentPlan
from ketaclinic.plans.tests.helpers import (
    add_therapist,
    last_event,
    post_json,
    with_depression_history,
)


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def test_screening_to_signed_plan_stores_the_proposed_course(
    prescriber, nurse, therapist, patient_a, patient_b, outsider, weight_of
):
    with_depression_history(patient_a, prescriber)
    add_therapist(patient_a, therapist, prescriber)
    weight_of(patient_a, "73.4", days_ago=2)
    api = f"/api/v1/patients/{patient_a.pk}"

    screening = post_json(
        signed_in(nurse), f"{api}/screenings", {"route": "iv", "indication": "trd"}
    ).json()
    signed = post_json(
        signed_in(prescriber),
        f"{api}/screenings/{screening['id']}/sign",
        {"decision": "eligible"},
    )
    assert signed.status_code == 200

    created = post_json(
        signed_in(prescriber),
        f"{api}/plans",
        {
            "screening_id": screening["id"],
            "protocol": "iv_racemic",
            "dose_mg_per_kg": 0.5,
            "schedule": "iv_induction",
            "start_date": next_monday().isoformat(),
            "working_weekdays": [0, 1, 2, 3, 4],
            "psychotherapy_plan": "Integration within 48 h of each infusion",
            "therapist_id": therapist.pk,
        },
    )
    assert created.status_code == 201, created.content
    draft = created.json()
    assert draft["status"] == "draft"
    assert draft["dose"]["dose_mg"] == 36.7
    assert draft["dose"]["rate_mg_per_min"] == 0.92
    assert draft["dose"]["weight_kg"] == 73.4
    assert len(draft["sessions"]) == 6  # the preview of what signing stores
    assert not PlannedSession.objects.exists()
    assert last_event("plan.create").patient_id == patient_a.pk

    response = post_json(signed_in(prescriber), f"{api}/plans/{draft['id']}/sign", {})

    assert response.status_code == 200
    plan = TreatmentPlan.objects.get(pk=draft["id"])
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.signed_by == prescriber
    assert plan.induction_sessions == 6
    assert plan.therapist == therapist
    sessions = list(plan.planned_sessions.values_list("number", "date", "phase"))
    assert [number for number, _, _ in sessions] == [1, 2, 3, 4, 5, 6]
    assert sessions[0][1] == next_monday()
    assert {phase for _, _, phase in sessions} == {"induction"}
    assert (sessions[-1][1] - sessions[0][1]).days <= 20
    assert all((b[1] - a[1]).days >= 2 for a, b in itertools.pairwise(sessions))
    assert all(day.weekday() < 5 for _, day, _ in sessions)
    event = last_event("plan.sign")
    assert event.actor == prescriber
    assert event.detail["status"] == ["draft", "active"]
    assert len(event.detail["course"]) == 6

    assert signed_in(patient_b.user).get(f"{api}/plans/{plan.pk}").status_code == 404
    assert signed_in(outsider).get(f"{api}/plans").status_code == 404
    assert (
        signed_in(prescriber).get(f"/api/v1/patients/{patient_b.pk}/plans/{plan.pk}").status_code
        == 404
    )


def test_an_esketamine_plan_counts_devices_and_follows_the_label_schedule(prescriber, patient_a):
    with_depression_history(patient_a, prescriber)
    api = f"/api/v1/patients/{patient_a.pk}"
    client = signed_in(prescriber)
    screening = post_json(client, f"{api}/screenings", {"route": "esketamine", "indication": "trd"})
    post_json(client, f"{api}/screenings/{screening.json()['id']}/sign", {"decision": "eligible"})

    draft = post_json(
        client,
        f"{api}/plans",
        {
            "screening_id": screening.json()["id"],
            "protocol": "esketamine_trd",
            "dose_mg": 56,
            "schedule": "esketamine_trd",
            "start_date": next_monday().isoformat(),
            "horizon_weeks": 8,
            "interval_weeks": 4,
        },
    ).json()
    response = post_json(client, f"{api}/plans/{draft['id']}/sign", {})

    assert response.status_code == 200
    body = response.json()
    assert (body["dose"]["dose_mg"], body["dose"]["devices"]) == (56, 2)
    assert body["dose"]["weight_kg"] is None
    assert [s["phase"] for s in body["sessions"]] == ["induction"] * 8 + ["optimization"] * 4


def test_a_protocol_without_a_schedule_pattern_signs_with_no_planned_sessions(
    prescriber, patient_a, weight_of
):
    from ketaclinic.plans.tests.helpers import active_plan, signed_screening

    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "80.0")
    screening = signed_screening(patient_a, prescriber, route="im")

    plan = active_plan(
        patient_a,
        prescriber,
        screening,
        protocol="im_racemic",
        schedule_code="",
        dose_mg_per_kg="0.3",
    )

    assert plan.status == PlanStatus.ACTIVE
    assert plan.dose_mg == 24
    assert not plan.planned_sessions.exists()


def test_signing_a_plan_schedules_its_measures_at_once(patient_a, prescriber, weight_of):
    from ketaclinic.outcomes.seeding import seed_instruments

    from .helpers import active_plan, signed_screening, with_depression_history

    seed_instruments()
    weight_of(patient_a, "70.0")
    with_depression_history(patient_a, prescriber)
    plan = active_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    reasons = set(plan.measurement_tasks.values_list("reason", flat=True))
    assert "baseline" in reasons
    assert "pre_session" in reasons
