"""The demo clinic's consultation requests: every triage state, one urgent, idempotent."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.roles import Role
from ketaclinic.conftest import make_patient, make_user
from ketaclinic.demo import intake as demo_intake
from ketaclinic.intake.models import ConsultationRequest, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return {"frontdesk": make_user("frontdesk", Role.FRONT_DESK)}


def test_the_demo_has_a_request_in_every_triage_state_and_one_urgent(users):
    make_patient("Ada", "Alvarez")
    demo_intake.load(users)
    states = set(ConsultationRequest.objects.values_list("status", flat=True))
    assert states == set(Status.values)
    urgent = ConsultationRequest.objects.filter(urgent=True)
    assert urgent.count() == 1
    assert urgent.get().status == Status.NEW
    converted = ConsultationRequest.objects.get(status=Status.CONVERTED)
    assert converted.patient.family_name == converted.family_name
    for consultation in ConsultationRequest.objects.all():
        last = consultation.events.order_by("at", "id").last()
        assert last.to_status == consultation.status


def test_loading_the_demo_requests_twice_changes_nothing(users):
    make_patient("Ada", "Alvarez")
    assert demo_intake.load(users) == 6
    assert demo_intake.load(users) == 0
    assert ConsultationRequest.objects.count() == 6
