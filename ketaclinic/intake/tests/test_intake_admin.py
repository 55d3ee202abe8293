"""The intake models in the Django admin: read-only, by the matrix, audited with the patient."""

from __future__ import annotations

import pytest
from django.contrib import admin

from ketaclinic.accounts.admin import ReadOnlyAdmin
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.intake.models import ConsentSignature, IntakeItem, IntakeSubmission

pytestmark = pytest.mark.django_db


def superuser(username: str, role: Role):
    return make_user(username, role, is_staff=True, is_superuser=True)


@pytest.fixture
def signature(patient_a):
    return ConsentSignature.objects.create(
        patient=patient_a,
        document_code="iv_ketamine",
        document_version=1,
        document_title="IV ketamine",
        text_sha256="0" * 64,
        typed_name="Ada Alvarez",
        signed_by=patient_a.user,
    )


def test_intake_records_are_read_only_in_the_admin():
    for model in (ConsentSignature, IntakeItem, IntakeSubmission):
        assert isinstance(admin.site._registry[model], ReadOnlyAdmin)


def test_a_prescriber_reads_a_signature_in_the_admin_and_the_read_names_the_patient(
    signature, patient_a
):
    client = signed_in(superuser("doc", Role.PRESCRIBER))

    page = client.get(f"/admin/intake/consentsignature/{signature.pk}/change/")

    assert page.status_code == 200
    event = AuditEvent.objects.filter(action="admin.view").order_by("-seq").first()
    assert (event.patient_id, event.outcome) == (patient_a.pk, Outcome.SUCCESS)


def test_a_front_desk_superuser_cannot_open_a_signature_in_the_admin(signature, patient_a):
    client = signed_in(superuser("desk", Role.FRONT_DESK))

    page = client.get(f"/admin/intake/consentsignature/{signature.pk}/change/")

    assert page.status_code == 403
    event = AuditEvent.objects.filter(action="admin.view").order_by("-seq").first()
    assert (event.patient_id, event.outcome) == (patient_a.pk, Outcome.REFUSED)
