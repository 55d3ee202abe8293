"""The demo patients who were treated signed the consent of every route they were treated by."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo import consent as demo_consent
from ketaclinic.intake import consent
from ketaclinic.intake.models import ConsentSignature


@pytest.fixture
def demo(db):
    call_command("demo", "--quiet-logins", "--patients", "40")


def test_every_treated_route_has_a_signed_current_consent_before_the_first_session(demo):
    pairs = set(TreatmentSession.objects.values_list("patient_id", "route"))
    assert pairs
    for patient_id, route in pairs:
        document = consent.document_for_route(route)
        signature = ConsentSignature.objects.get(patient_id=patient_id, document_code=document.code)
        assert (signature.document_version, signature.text_sha256) == (
            document.version,
            document.sha256,
        )
        first = (
            TreatmentSession.objects.filter(patient_id=patient_id, route=route)
            .order_by("opened_at")
            .first()
        )
        assert signature.signed_at < first.opened_at
        assert signature.via == ("portal" if signature.signed_by_id else "paper")


def test_signing_again_adds_nothing(demo):
    before = ConsentSignature.objects.count()

    assert demo_consent.load() == 0
    assert ConsentSignature.objects.count() == before
