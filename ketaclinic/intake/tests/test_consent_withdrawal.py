"""A patient withdraws a signed consent on the portal; the checklist and staff see it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.tests.session_makers import open_session
from ketaclinic.conftest import signed_in
from ketaclinic.intake.models import ConsentSignature
from ketaclinic.intake.tests.test_portal_consent import consent_state, sign

pytestmark = pytest.mark.django_db


def withdraw_url(signature: ConsentSignature) -> str:
    return f"/portal/consents/withdraw/{signature.pk}/"


@pytest.fixture
def signature(patient_a):
    sign(patient_a)
    return ConsentSignature.objects.get(patient=patient_a)


def test_the_portal_asks_for_confirmation_before_withdrawing(patient_a, signature):
    client = signed_in(patient_a.user)

    page = client.get(withdraw_url(signature))
    unconfirmed = client.post(withdraw_url(signature), {})

    assert page.status_code == 200
    assert b"I want to withdraw this consent" in page.content
    assert unconfirmed.status_code == 422
    assert b"confirm" in unconfirmed.content
    signature.refresh_from_db()
    assert signature.withdrawn_at is None
    assert AuditEvent.objects.filter(action="consent.withdraw", outcome=Outcome.INVALID).exists()


def test_withdrawing_marks_the_signature_and_is_audited(patient_a, signature):
    client = signed_in(patient_a.user)

    response = client.post(withdraw_url(signature), {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == "/portal/consents/"
    signature.refresh_from_db()
    assert signature.withdrawn_at is not None
    event = AuditEvent.objects.get(action="consent.withdraw", outcome=Outcome.SUCCESS)
    assert (event.patient_id, event.actor_id) == (patient_a.pk, patient_a.user_id)
    assert event.detail == {"document": "iv_ketamine", "version": 1}
    # The portal offers the document to sign again.
    assert b"Read and sign" in client.get("/portal/consents/").content


def test_withdrawing_twice_is_a_conflict(patient_a, signature):
    client = signed_in(patient_a.user)
    client.post(withdraw_url(signature), {"confirm": "yes"})
    signature.refresh_from_db()
    first = signature.withdrawn_at

    again = client.post(withdraw_url(signature), {"confirm": "yes"})

    assert again.status_code == 409
    signature.refresh_from_db()
    assert signature.withdrawn_at == first


def test_the_checklist_no_longer_finds_consent_on_file(patient_a, prescriber, nurse, signature):
    session = open_session(patient_a, prescriber, nurse, "iv")
    assert consent_state(session).state == "passed"

    signed_in(patient_a.user).post(withdraw_url(signature), {"confirm": "yes"})

    assert consent_state(session).state == "pending"


def test_the_patient_may_sign_again_after_withdrawing(patient_a, signature):
    signed_in(patient_a.user).post(withdraw_url(signature), {"confirm": "yes"})

    assert sign(patient_a).status_code == 302
    assert ConsentSignature.objects.valid().filter(patient=patient_a).count() == 1


def test_staff_see_withdrawn_on_the_date_on_the_intake_tab(patient_a, prescriber, signature):
    signed_in(patient_a.user).post(withdraw_url(signature), {"confirm": "yes"})
    signature.refresh_from_db()

    page = signed_in(prescriber).get(f"/patients/{patient_a.pk}/tab/intake/")

    assert page.status_code == 200
    # The page shows the clinic's local day, which differs from UTC's in the evening.
    withdrawn_on = timezone.localtime(signature.withdrawn_at)
    assert f"withdrawn on {withdrawn_on:%-d %B %Y}" in page.content.decode()


def test_another_patient_staff_and_outsiders_cannot_withdraw(
    patient_a, patient_b, nurse, outsider, signature
):
    for user in (patient_b.user, nurse, outsider):
        assert signed_in(user).post(withdraw_url(signature), {"confirm": "yes"}).status_code == 404
    signature.refresh_from_db()
    assert signature.withdrawn_at is None
