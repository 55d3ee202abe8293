"""One fetch for staff pages a patient may stumble on (chart, screenings, plans): staff get
the patient (the read audited), the patient is sent to the portal, and another patient's id
is not found (404, audited)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.patients.access import access_patient_or_portal


def request_by(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def newest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_staff_get_the_patient_and_the_read_is_audited(prescriber, patient_a):
    found = access_patient_or_portal(
        request_by(prescriber), patient_a.pk, "plan.view", section="plan"
    )

    assert found == patient_a
    assert newest("patient.view").detail == {"section": "plan"}


def test_the_patient_themself_is_sent_to_the_portal(patient_a):
    assert access_patient_or_portal(request_by(patient_a.user), patient_a.pk, "plan.view") is None


def test_another_patient_s_id_is_not_found_and_audited(patient_a, patient_b):
    with pytest.raises(Http404):
        access_patient_or_portal(request_by(patient_a.user), patient_b.pk, "plan.view")

    refusal = newest("access.refused")
    assert (refusal.actor, refusal.patient_id) == (patient_a.user, patient_b.pk)


def test_a_role_without_the_permission_is_refused(front_desk, patient_a):
    with pytest.raises(PermissionDenied):
        access_patient_or_portal(request_by(front_desk), patient_a.pk, "plan.sign")


@pytest.mark.parametrize(
    "path",
    [
        "/patients/{}/",
        "/patients/{}/plans/new/",
        "/patients/{}/screenings/new/",
    ],
)
def test_the_pages_send_the_patient_to_the_portal_and_refuse_another_s(patient_a, patient_b, path):
    client = signed_in(patient_a.user)

    own = client.get(path.format(patient_a.pk))
    other = client.get(path.format(patient_b.pk))

    assert (own.status_code, own["Location"]) == (302, "/portal/")
    assert other.status_code == 404
