"""Shared makers for the screening and plan tests: a depressed patient with a history, a
signed screening, a draft plan. Built through the services, so they are what the app makes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.test import Client, RequestFactory
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import (
    AntidepressantTrial,
    CareRole,
    CareTeamMember,
    Diagnosis,
    Medication,
    Patient,
    TrialOutcome,
)
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.screening import services as screening_services
from ketaclinic.screening.models import Screening


def request_by(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def post_json(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


def last_event(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def fields_of(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def with_depression_history(patient: Patient, by, *, trials: int = 3) -> Patient:
    """Recurrent severe MDD (F33.2) with ``trials`` adequate antidepressant trials."""
    Diagnosis.objects.create(patient=patient, icd10_code="F33.2", recorded_by=by)
    for number in range(trials):
        AntidepressantTrial.objects.create(
            patient=patient,
            drug=f"antidepressant {number + 1}",
            drug_class="ssri",
            dose_mg_per_day=Decimal(100),
            duration_weeks=8,
            outcome=TrialOutcome.NO_RESPONSE,
            adequate=True,
            recorded_by=by,
        )
    return patient


def add_medication(patient: Patient, by, name: str, drug_class: str) -> Medication:
    return Medication.objects.create(
        patient=patient, name=name, drug_class=drug_class, dose="1 mg", recorded_by=by
    )


def add_therapist(patient: Patient, therapist, by) -> CareTeamMember:
    return CareTeamMember.objects.create(
        patient=patient, role=CareRole.THERAPIST, user=therapist, recorded_by=by
    )


def screening_for(
    patient: Patient,
    by,
    *,
    route: str = "iv",
    indication: str = "trd",
    findings: tuple[str, ...] = (),
    oral_antidepressant: bool | None = None,
) -> Screening:
    return screening_services.screening_create(
        request=request_by(by),
        patient=patient,
        answers={
            "route": route,
            "indication": indication,
            "reported_findings": list(findings),
            "oral_antidepressant": oral_antidepressant,
        },
    )


def signed_screening(patient: Patient, prescriber, **answers) -> Screening:
    decision = answers.pop("decision", "eligible")
    reasoning = answers.pop("reasoning", "")
    screening = screening_for(patient, prescriber, **answers)
    return screening_services.screening_sign(
        request=request_by(prescriber),
        screening=screening,
        decision=decision,
        reasoning=reasoning,
    )


def plan_data(screening: Screening, **overrides) -> dict:
    data = {
        "screening": screening.pk,
        "protocol": "iv_racemic",
        "dose_mg_per_kg": Decimal("0.5"),
        "schedule_code": "iv_induction",
        "start_date": timezone.localdate() + dt.timedelta(days=1),
        "working_weekdays": [0, 1, 2, 3, 4],
        "psychotherapy_plan": "Integration session within 48 h of each infusion.",
    }
    data.update(overrides)
    return data


def draft_plan(patient: Patient, prescriber, screening: Screening, **overrides) -> TreatmentPlan:
    return plan_services.plan_create(
        request=request_by(prescriber), patient=patient, data=plan_data(screening, **overrides)
    )


def active_plan(patient: Patient, prescriber, screening: Screening, **overrides) -> TreatmentPlan:
    plan = draft_plan(patient, prescriber, screening, **overrides)
    return plan_services.plan_sign(request=request_by(prescriber), plan=plan)
