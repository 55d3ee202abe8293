"""Consultation and integration visits: the clinician chooses the E/M or psychotherapy code;
it is proposed from the minutes when they reach a code's minimum, else the API asks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing.models import ChargeLine
from ketaclinic.conftest import signed_in
from ketaclinic.patients.models import Diagnosis
from ketaclinic.scheduling import seed
from ketaclinic.scheduling.models import Appointment, AppointmentType, OpeningHours, Status


def visit(patient, by, kind: str, *, days_ago: int = 3, status=Status.COMPLETED):
    seed.seed(AppointmentType, OpeningHours)
    start = timezone.now() - dt.timedelta(days=days_ago)
    return Appointment.objects.create(
        patient=patient,
        type=AppointmentType.objects.get(code=kind),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=60),
        status=status,
        created_by=by,
    )


@pytest.fixture
def diagnosed(patient_a, prescriber):
    Diagnosis.objects.create(patient=patient_a, icd10_code="F33.2", recorded_by=prescriber)
    return patient_a


def post(client, appointment, body):
    return client.post(
        f"/api/v1/appointments/{appointment.pk}/charges",
        json.dumps(body),
        content_type="application/json",
    )


def test_a_first_consultation_is_proposed_from_its_minutes(prescriber, diagnosed):
    consultation = visit(diagnosed, prescriber, "consultation")

    response = post(signed_in(prescriber), consultation, {"minutes": 50})

    assert response.status_code == 201, response.content
    line = ChargeLine.objects.get(appointment=consultation)
    assert (line.code, line.status, line.diagnoses) == ("99204", "confirmed", ["F33.2"])
    assert line.confirmed_by == prescriber
    assert AuditEvent.objects.filter(action="charges.visit", patient_id=diagnosed.pk).exists()


def test_a_later_visit_is_established_and_without_minutes_the_clinician_chooses(
    prescriber, diagnosed
):
    visit(diagnosed, prescriber, "consultation", days_ago=40)
    follow_up = visit(diagnosed, prescriber, "follow_up")
    client = signed_in(prescriber)

    asked = post(client, follow_up, {})
    wrong = post(client, follow_up, {"code": "99204"})
    chosen = post(client, follow_up, {"code": "99214"})

    assert asked.status_code == 422
    assert asked.json()["errors"][0]["field"] == "code"
    assert wrong.status_code == 422
    assert chosen.status_code == 201
    assert chosen.json()["code"] == "99214"
    again = post(client, follow_up, {"code": "99213"})
    assert again.status_code == 409


@pytest.mark.parametrize(("minutes", "code"), [(30, "90832"), (45, "90834"), (55, "90837")])
def test_an_integration_session_is_psychotherapy_by_minutes(therapist, diagnosed, minutes, code):
    integration = visit(diagnosed, therapist, "integration_therapy")

    response = post(signed_in(therapist), integration, {"minutes": minutes})

    assert response.status_code == 201, response.content
    assert response.json()["code"] == code


def test_a_visit_not_completed_is_not_billed(prescriber, diagnosed):
    booked = visit(diagnosed, prescriber, "consultation", status=Status.SCHEDULED)

    response = post(signed_in(prescriber), booked, {"minutes": 50})

    assert response.status_code == 422
    assert not ChargeLine.objects.exists()


def test_the_front_desk_cannot_choose_clinical_codes_and_outsiders_get_404(
    front_desk, outsider, prescriber, diagnosed
):
    consultation = visit(diagnosed, prescriber, "consultation")

    assert post(signed_in(front_desk), consultation, {"minutes": 50}).status_code == 403
    assert post(signed_in(outsider), consultation, {"minutes": 50}).status_code == 404
    assert not ChargeLine.objects.exists()
