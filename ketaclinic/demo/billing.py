"""Demo billing: coverage on every demo patient and prior authorizations on esketamine plans.

Most IV and IM ketamine is self-pay; esketamine is usually covered by a commercial plan
(REFERENCE.md section 8), so patients with an esketamine plan get a commercial coverage and
everyone else self-pay. The signed (treated) esketamine plan has an approved authorization
covering its planned sessions; the draft one has its request submitted and pending. The payer is fictional.
Idempotent: a patient with coverage and a plan with an authorization are left alone.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.billing import authorization_services, coverage_services
from ketaclinic.billing.authorization import AuthChange
from ketaclinic.billing.coverage import CoverageInput
from ketaclinic.billing.models import AuthStatus, Network, PriorAuthorization
from ketaclinic.demo.plans import DemoRequest
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanStatus, TreatmentPlan

DEMO_PAYER = "Demo Mutual Health (commercial, fictional)"
ESKETAMINE = "esketamine"
# The demo clinic's own patients (clinic.MRN_PREFIX; clinic imports this module). The bulk
# outcome cohort is history for the dashboard and is left without billing.
CLINIC_MRN_PREFIX = "DEMO"


def load(users: dict[str, User]) -> dict[str, int]:
    desk = DemoRequest(users["frontdesk"])
    return {"coverages": ensure_coverage(desk), "authorizations": ensure_authorizations(desk)}


def esketamine_plans():
    return (
        TreatmentPlan.objects.filter(route=ESKETAMINE, patient__mrn__startswith=CLINIC_MRN_PREFIX)
        .exclude(status=PlanStatus.ENTERED_IN_ERROR)
        .select_related("patient")
        # Signed plans first (the one treated gets the approval), then drafts (pending).
        .order_by(F("signed_at").asc(nulls_last=True), "id")
    )


def ensure_coverage(desk) -> int:
    covered = set(esketamine_plans().values_list("patient_id", flat=True))
    created = 0
    patients = Patient.objects.filter(mrn__startswith=CLINIC_MRN_PREFIX, coverages__isnull=True)
    for patient in patients.order_by("id"):
        start = dt.date(timezone.localdate(patient.created_at).year, 1, 1)
        if patient.pk in covered:
            entry = CoverageInput(
                self_pay=False,
                payer_name=DEMO_PAYER,
                member_id=f"DMH{patient.mrn[-7:]}",
                group_number="GRP-4410",
                subscriber_relationship="self",
                network=Network.IN,
                effective_from=start,
                effective_to=None,
            )
        else:
            entry = CoverageInput(True, "", "", "", "", Network.UNKNOWN, start, None)
        coverage_services.coverage_add(request=desk, patient=patient, entry=entry)
        created += 1
    return created


def ensure_authorizations(desk) -> int:
    plans = list(esketamine_plans()[:2])
    created = 0
    for position, plan in enumerate(plans):
        if PriorAuthorization.objects.filter(plan=plan).exists():
            continue
        steps = [AuthChange(AuthStatus.TO_SUBMIT), AuthChange(AuthStatus.SUBMITTED)]
        if position == 0:
            steps.append(approval_covering(plan))
        for day, change in enumerate(steps, start=1):
            since = plan.signed_at or plan.created_at
            at = min(since + dt.timedelta(days=day - 1, hours=day), timezone.now())
            authorization_services.authorization_change(
                request=desk, plan=plan, change=change, now=at
            )
        created += 1
    return created


def approval_covering(plan: TreatmentPlan) -> AuthChange:
    """An approval for every planned session of the plan, with a month to spare."""
    dates = sorted(plan.planned_sessions.values_list("date", flat=True)) or [plan.start_date]
    return AuthChange(
        AuthStatus.APPROVED,
        auth_number=f"PA-{dates[0]:%Y}-{plan.patient.mrn}",
        units=max(len(dates), 1),
        valid_from=min(dates[0], plan.start_date),
        valid_to=dates[-1] + dt.timedelta(days=30),
    )
