"""One permission-checked fetch of a treatment session (charting/access.py) for the session
page, the controlled-substance log and the charges: a session that does not exist, or is
another patient's, answers 404 and the refusal is written to the audit trail."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.tests.session_makers import open_session
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return open_session(patient_a, prescriber, nurse)


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.refused").order_by("seq"))


@pytest.mark.parametrize("page", ["/sessions/{}/", "/inventory/sessions/{}/"])
def test_a_session_that_does_not_exist_is_404_and_audited(nurse, page):
    response = signed_in(nurse).get(page.format(999999))

    assert response.status_code == 404
    (refused,) = refusals()
    assert refused.outcome == Outcome.REFUSED
    assert refused.patient_id is None
    assert refused.detail["reason"] == "no treatment session 999999"


def test_another_patients_session_is_404_and_audited_under_that_patient(session, patient_b):
    response = signed_in(patient_b.user).get(f"/sessions/{session.pk}/")

    assert response.status_code == 404
    (refused,) = refusals()
    assert refused.outcome == Outcome.REFUSED
    assert refused.patient_id == session.patient_id
