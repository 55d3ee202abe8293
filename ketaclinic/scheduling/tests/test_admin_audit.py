"""Clinic calendar settings changed in the admin land in the audit trail with old and new."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import AppointmentType


def test_changing_an_appointment_length_in_the_admin_is_audited(calendar):
    admin_user = User.objects.create(
        username="owner", role=Role.CLINIC_ADMIN, is_staff=True, is_superuser=True
    )
    kind = AppointmentType.objects.get(code="follow_up")
    response = signed_in(admin_user).post(
        f"/admin/scheduling/appointmenttype/{kind.pk}/change/",
        {
            "code": kind.code,
            "name": kind.name,
            "minutes": 45,
            "staff_role": kind.staff_role,
            "place": kind.place,
            "protocol_code": "",
        },
    )
    assert response.status_code == 302
    kind.refresh_from_db()
    assert kind.minutes == 45
    event = AuditEvent.objects.get(action="admin.change")
    assert event.detail["model"] == "scheduling.appointmenttype"
    assert event.detail["changes"]["minutes"] == [30, 45]
    assert event.actor == admin_user
