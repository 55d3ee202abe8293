"""One permission-checked fetch of an appointment for the pages and the API: a visit that
does not exist, or is another patient's, answers 404 and the refusal is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling import access, api, views
from ketaclinic.scheduling.models import Appointment, AppointmentType

MISSING = 987654
TOO_LARGE = 10**30


@pytest.fixture
def appointment(calendar, patient_a, front_desk):
    kind = AppointmentType.objects.get(code="iv_infusion")
    start = timezone.now() + dt.timedelta(days=2)
    return Appointment.objects.create(
        patient=patient_a,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        created_by=front_desk,
    )


def newest_refusal() -> AuditEvent:
    return AuditEvent.objects.filter(action="access.refused").order_by("-seq").first()


PAGE = "/calendar/appointments/{}/"
API = "/api/v1/appointments/{}"


@pytest.mark.parametrize("url", [PAGE, API])
def test_a_missing_appointment_answers_404_and_is_audited(calendar, front_desk, url):
    response = signed_in(front_desk).get(url.format(MISSING))

    assert response.status_code == 404
    refusal = newest_refusal()
    assert refusal.actor == front_desk
    assert refusal.outcome == Outcome.REFUSED
    assert refusal.patient_id is None
    assert refusal.detail["permission"] == "appointment.view"
    assert str(MISSING) in refusal.detail["reason"]


def test_an_id_larger_than_any_row_is_not_found_without_an_overflow(calendar, front_desk):
    request = RequestFactory().get("/calendar/appointments/")
    request.user = front_desk

    with pytest.raises(Http404):
        access.access_appointment(request, TOO_LARGE, "appointment.view")
    assert newest_refusal().detail["permission"] == "appointment.view"


@pytest.mark.parametrize("url", [PAGE, API])
def test_another_patient_s_appointment_is_not_found_and_audited(appointment, patient_b, url):
    response = signed_in(patient_b.user).get(url.format(appointment.pk))

    assert response.status_code == 404
    refusal = newest_refusal()
    assert refusal.actor == patient_b.user
    assert refusal.patient_id == appointment.patient_id


@pytest.mark.parametrize("url", [PAGE, API])
def test_staff_get_the_appointment(appointment, front_desk, url):
    response = signed_in(front_desk).get(url.format(appointment.pk))

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="access.refused").exists()


def test_the_page_and_the_api_fetch_through_the_same_function():
    assert api.access_appointment is access.access_appointment
    assert views.access_appointment is access.access_appointment
