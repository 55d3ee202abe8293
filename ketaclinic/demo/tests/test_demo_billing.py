"""The demo clinic has coverage on every patient and prior authorizations on esketamine plans."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ketaclinic.billing.models import AuthorizationEvent, Coverage, PriorAuthorization
from ketaclinic.demo import billing as demo_billing
from ketaclinic.patients.models import Patient


@pytest.fixture
def demo(db):
    call_command("demo", "--quiet-logins", "--patients", "40")


def test_every_clinic_patient_has_one_current_coverage(demo):
    clinic = Patient.objects.filter(mrn__startswith=demo_billing.CLINIC_MRN_PREFIX)
    for patient in clinic:
        assert patient.coverages.current().count() == 1


def test_esketamine_patients_are_commercially_covered_and_the_rest_mostly_self_pay(demo):
    esketamine = {plan.patient_id for plan in demo_billing.esketamine_plans()}
    assert len(esketamine) >= 2
    current = Coverage.objects.current()
    assert all(not c.self_pay for c in current.filter(patient_id__in=esketamine))
    assert all(c.self_pay for c in current.exclude(patient_id__in=esketamine))


def test_one_approval_covering_its_planned_sessions_and_one_pending(demo):
    statuses = sorted(PriorAuthorization.objects.values_list("status", flat=True))
    assert statuses == ["approved", "submitted"]
    approved = PriorAuthorization.objects.get(status="approved")
    dates = list(approved.plan.planned_sessions.values_list("date", flat=True))
    assert approved.units >= len(dates)
    assert all(approved.valid_from <= d <= approved.valid_to for d in dates)
    assert approved.events.count() == 3


def test_loading_again_adds_no_billing_rows(demo):
    before = (
        Coverage.objects.count(),
        PriorAuthorization.objects.count(),
        AuthorizationEvent.objects.count(),
    )
    call_command("demo", "--quiet-logins", "--patients", "40")
    after = (
        Coverage.objects.count(),
        PriorAuthorization.objects.count(),
        AuthorizationEvent.objects.count(),
    )
    assert after == before
