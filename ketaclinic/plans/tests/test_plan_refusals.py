"""Nothing proceeds without a signed, valid, current screening, a recent weight and a dose the
protocol allows; each refusal names its field and stores nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.models import Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.patients.models import Diagnosis
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.plans.services import plan_sign
from ketaclinic.plans.tests.helpers import (
    active_plan,
    add_medication,
    draft_plan,
    fields_of,
    last_event,
    plan_data,
    post_json,
    request_by,
    screening_for,
    signed_screening,
    with_depression_history,
)
from ketaclinic.screening import vocabulary
from ketaclinic.screening.models import Screening


@pytest.fixture
def ready(prescriber, patient_a, weight_of):
    """Patient A with recurrent MDD, three adequate trials and a weight from two days ago."""
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "70.0", days_ago=2)
    return patient_a


def create(prescriber, patient, screening, **overrides):
    data = plan_data(screening, **overrides)
    if "session_count" in data:
        data["count"] = data.pop("session_count")
    body = {
        "screening_id": data.pop("screening"),
        "schedule": data.pop("schedule_code"),
        **{k: (str(v) if isinstance(v, dt.date | Decimal) else v) for k, v in data.items()},
    }
    if "therapist" in body:
        body["therapist_id"] = body.pop("therapist")
    return post_json(signed_in(prescriber), f"/api/v1/patients/{patient.pk}/plans", body)


def refused(response, field: str, *words: str) -> None:
    assert response.status_code == 422, response.content
    assert fields_of(response) == {field}
    for word in words:
        assert word in response.json()["message"]
    assert not TreatmentPlan.objects.exists()
    assert last_event("plan.create").outcome == Outcome.INVALID


def test_an_unsigned_screening_backs_no_plan(prescriber, nurse, ready):
    screening = screening_for(ready, nurse)

    refused(create(prescriber, ready, screening), "screening_id", "not signed")


def test_a_screening_signed_not_eligible_backs_no_plan(prescriber, ready):
    screening = signed_screening(ready, prescriber, decision="not_eligible")

    refused(create(prescriber, ready, screening), "screening_id", "signed not eligible")


def test_a_stale_screening_is_refused_with_what_changed(prescriber, ready):
    screening = signed_screening(ready, prescriber)
    add_medication(ready, prescriber, "Alprazolam", "benzodiazepine")

    refused(
        create(prescriber, ready, screening),
        "screening_id",
        "new medication in cns_depressants since screening",
    )


def test_a_draft_goes_stale_before_signing_when_psychosis_is_recorded(prescriber, ready):
    plan = draft_plan(ready, prescriber, signed_screening(ready, prescriber))
    Diagnosis.objects.create(patient=ready, icd10_code="F29", recorded_by=prescriber)

    response = post_json(
        signed_in(prescriber), f"/api/v1/patients/{ready.pk}/plans/{plan.pk}/sign", {}
    )

    assert response.status_code == 422
    assert fields_of(response) == {"screening_id"}
    assert "new diagnosis of history of psychosis since screening" in response.json()["message"]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert not plan.planned_sessions.exists()
    assert last_event("plan.sign").outcome == Outcome.INVALID


def test_an_expired_screening_is_refused(prescriber, ready):
    screening = signed_screening(ready, prescriber)
    Screening.objects.filter(pk=screening.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )

    refused(create(prescriber, ready, screening), "screening_id", "expired", "screen again")


def test_each_plan_needs_its_own_screening(prescriber, ready):
    screening = signed_screening(ready, prescriber)
    first = create(prescriber, ready, screening)
    assert first.status_code == 201

    second = create(prescriber, ready, screening)

    assert second.status_code == 422
    assert fields_of(second) == {"screening_id"}
    assert "already backs a plan" in second.json()["message"]
    assert TreatmentPlan.objects.count() == 1


def test_a_weight_older_than_30_days_is_refused(prescriber, patient_a, weight_of):
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "70.0", days_ago=31)
    screening = signed_screening(patient_a, prescriber)

    refused(
        create(prescriber, patient_a, screening),
        "weight_measured_on",
        "31 days old",
        "weigh the patient again",
    )


def test_a_weight_that_ages_past_30_days_before_signing_refuses_the_signature(prescriber, ready):
    plan = draft_plan(ready, prescriber, signed_screening(ready, prescriber))
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        weight_measured_on=timezone.localdate() - dt.timedelta(days=40)
    )
    plan.refresh_from_db()

    with pytest.raises(ValidationError) as caught:
        plan_sign(request=request_by(prescriber), plan=plan)

    assert "weight_measured_on" in caught.value.message_dict
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_no_weight_on_record_is_refused_for_a_weight_based_dose(prescriber, patient_a):
    with_depression_history(patient_a, prescriber)
    screening = signed_screening(patient_a, prescriber)

    refused(create(prescriber, patient_a, screening), "weight_kg", "weigh the patient")


def test_esketamine_for_suicidal_ideation_needs_an_oral_antidepressant(prescriber, ready):
    screening = signed_screening(
        ready,
        prescriber,
        route="esketamine",
        indication="mdd_suicidal_ideation",
        oral_antidepressant=True,
    )
    mdsi = {
        "protocol": "esketamine_mdsi",
        "dose_mg_per_kg": None,
        "dose_mg": 84,
        "schedule_code": "esketamine_mdsi",
    }

    refused(
        create(prescriber, ready, screening, **mdsi),
        "concurrent_oral_antidepressant",
        "oral antidepressant",
    )

    accepted = create(
        prescriber, ready, screening, **mdsi, concurrent_oral_antidepressant="Sertraline 100 mg"
    )
    assert accepted.status_code == 201
    assert accepted.json()["dose"]["devices"] == 3


def test_a_protocol_for_another_route_is_refused(prescriber, ready):
    screening = signed_screening(ready, prescriber)  # iv

    refused(
        create(prescriber, ready, screening, protocol="im_racemic", schedule_code=""),
        "protocol",
        "route",
    )


def test_a_course_starting_in_the_past_is_refused(prescriber, ready):
    screening = signed_screening(ready, prescriber)

    refused(
        create(
            prescriber,
            ready,
            screening,
            start_date=timezone.localdate() - dt.timedelta(days=1),
        ),
        "start_date",
    )


def test_a_dose_outside_the_protocol_range_needs_an_override(prescriber, ready):
    screening = signed_screening(ready, prescriber)

    refused(
        create(prescriber, ready, screening, dose_mg_per_kg=Decimal("1.2")),
        "dose_mg_per_kg",
        "0.1-1.0 mg/kg",
    )

    reason = "Partial response at 1.0 mg/kg in the previous course"
    response = create(
        prescriber, ready, screening, dose_mg_per_kg=Decimal("1.2"), override_reason=reason
    )
    assert response.status_code == 201
    plan = TreatmentPlan.objects.get()
    assert plan.override_reason == reason
    assert reason in plan.dose_warnings[0]
    assert last_event("plan.create").detail["fields"]["override_reason"] == reason


def test_84_mg_on_the_first_esketamine_trd_session_needs_an_override(prescriber, ready):
    screening = signed_screening(ready, prescriber, route="esketamine")

    refused(
        create(
            prescriber,
            ready,
            screening,
            protocol="esketamine_trd",
            dose_mg_per_kg=None,
            dose_mg=84,
            schedule_code="esketamine_trd",
        ),
        "dose_mg",
        "starts at 56 mg",
    )


def test_the_therapist_must_be_on_the_care_team(prescriber, therapist, ready):
    screening = signed_screening(ready, prescriber)

    refused(create(prescriber, ready, screening, therapist=therapist.pk), "therapist_id")


def test_a_struck_out_draft_frees_its_screening_for_a_new_plan(prescriber, ready):
    screening = signed_screening(ready, prescriber)
    plan = draft_plan(ready, prescriber, screening)
    response = post_json(
        signed_in(prescriber),
        f"/api/v1/patients/{ready.pk}/plans/{plan.pk}/status",
        {"status": "entered-in-error", "reason": "Wrong protocol"},
    )
    assert response.status_code == 200

    again = active_plan(ready, prescriber, screening)

    assert again.status == PlanStatus.ACTIVE


def test_working_days_that_are_not_weekdays_are_named(prescriber, ready):
    screening = signed_screening(ready, prescriber)

    refused(
        create(prescriber, ready, screening, working_weekdays=[0, {"day": 2}, 4]),
        "working_weekdays",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dose_mg_per_kg": Decimal("0.5555")}, "dose_mg_per_kg"),
        ({"dose_mg_per_kg": Decimal("9000"), "override_reason": "test"}, "dose_mg_per_kg"),
        (
            {"schedule_code": "iv_maintenance", "interval_weeks": 4, "session_count": 10**9},
            "count",
        ),
    ],
)
def test_values_the_record_cannot_hold_are_refused_not_crashed(prescriber, ready, overrides, field):
    screening = signed_screening(ready, prescriber)

    refused(create(prescriber, ready, screening, **overrides), field)


def test_course_inputs_the_pattern_does_not_use_are_not_kept(prescriber, ready):
    screening = signed_screening(ready, prescriber)

    response = create(
        prescriber, ready, screening, session_count=10**9, interval_weeks=4, horizon_weeks=16
    )

    assert response.status_code == 201
    plan = TreatmentPlan.objects.get()
    assert (plan.session_count, plan.interval_weeks, plan.horizon_weeks) == (None, None, None)


def test_the_oral_antidepressant_rule_is_the_screening_findings_rule():
    """One rule in one place: the plan's check reads screening's finding from its data."""
    rule = vocabulary.oral_antidepressant_rule("esketamine", "mdd_suicidal_ideation")
    assert rule is not None
    assert rule.code == "oral_antidepressant_required"
    assert rule.sources  # the message cites it
    assert vocabulary.oral_antidepressant_rule("esketamine", "trd") is None
    assert vocabulary.oral_antidepressant_rule("iv", "mdd_suicidal_ideation") is None
