"""A refused person reads their role and the permission in words; the audit trail too."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_403_page_names_the_role_and_the_permission_in_words(front_desk, patient_a):
    response = signed_in(front_desk).get(f"/patients/{patient_a.pk}/plans/new/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role (Front desk) does not allow “Plan: create”." in page
    assert "front_desk" not in page
    refusal = AuditEvent.objects.filter(action="access.refused").latest("seq")
    assert refusal.detail["reason"] == "role Front desk lacks “Plan: create”"
