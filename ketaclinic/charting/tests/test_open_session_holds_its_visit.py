"""A visit whose treatment session is open cannot be un-checked-in or cancelled."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tests.session_makers import open_session, request_by
from ketaclinic.scheduling.models import Status
from ketaclinic.scheduling.services import appointment_transition

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("to", [Status.SCHEDULED, Status.CANCELLED])
def test_it_refuses_to_move_a_visit_out_of_check_in_while_its_session_is_open(
    patient_a, nurse, prescriber, to
):
    session = open_session(patient_a, prescriber, nurse)
    visit = session.appointment
    with pytest.raises(ValidationError) as refused:
        appointment_transition(
            request=request_by(nurse), appointment=visit, to=to, reason="wrong patient"
        )
    assert "session is already open" in refused.value.message_dict["status"][0]
    visit.refresh_from_db()
    assert visit.status == Status.CHECKED_IN


def test_a_session_entered_in_error_no_longer_holds_the_visit(patient_a, nurse, prescriber):
    session = open_session(patient_a, prescriber, nurse)
    TreatmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.ENTERED_IN_ERROR)
    visit = session.appointment
    appointment_transition(
        request=request_by(nurse), appointment=visit, to=Status.CANCELLED, reason="duplicate"
    )
    visit.refresh_from_db()
    assert visit.status == Status.CANCELLED
