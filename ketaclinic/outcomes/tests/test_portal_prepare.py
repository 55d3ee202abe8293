"""The portal page that prepares the patient: visits with instructions, confirm/cancel with
the reminder link's rule, questionnaires, consents, discharge instructions, education pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.models import Discharge
from ketaclinic.charting.tests.session_makers import open_session
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling import seed
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    OpeningHours,
    Preparation,
    Status,
)

URL = "/portal/visits/"


def visit(patient, by, code="iv_infusion", hours_ahead=48) -> Appointment:
    seed.seed(AppointmentType, OpeningHours)
    kind = AppointmentType.objects.get(code=code)
    start = timezone.now() + dt.timedelta(hours=hours_ahead)
    return Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        created_by=by,
    )


@pytest.mark.django_db
def test_the_page_shows_each_visit_with_its_preparation(patient_a, front_desk):
    visit(patient_a, front_desk)

    response = signed_in(patient_a.user).get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Do not eat for 4–6 hours before your visit." in body
    assert "responsible adult to take you home" in body
    assert AuditEvent.objects.filter(
        action="patient.view", patient_id=patient_a.pk, detail__section="portal visits"
    ).exists()


@pytest.mark.django_db
def test_esketamine_visits_show_the_food_and_liquid_windows(patient_a, front_desk):
    visit(patient_a, front_desk, code="esketamine")

    body = signed_in(patient_a.user).get(URL).content.decode()

    assert "Do not drink anything for 30 minutes before your visit." in body


@pytest.mark.django_db
def test_confirming_stores_what_the_checklist_reads_and_confirms_the_visit(patient_a, front_desk):
    appointment = visit(patient_a, front_desk)

    response = signed_in(patient_a.user).post(
        f"{URL}{appointment.pk}/",
        {"action": "confirm", "fasting_understood": "on", "ride_arranged": "on"},
    )

    assert response.status_code == 302
    preparation = Preparation.objects.get(appointment=appointment)
    assert (preparation.fasting_understood, preparation.ride_arranged, preparation.via) == (
        True,
        True,
        "portal",
    )
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED
    event = AppointmentEvent.objects.get(appointment=appointment, to_status=Status.CONFIRMED)
    assert event.detail["via"] == "portal"
    assert AuditEvent.objects.filter(
        action="appointment.confirmed", actor=patient_a.user, patient_id=patient_a.pk
    ).exists()


@pytest.mark.django_db
def test_confirming_without_the_ticks_is_refused(patient_a, front_desk):
    appointment = visit(patient_a, front_desk)

    response = signed_in(patient_a.user).post(
        f"{URL}{appointment.pk}/", {"action": "confirm", "fasting_understood": "on"}
    )

    assert response.status_code == 422
    assert "arranged for someone to take you home" in response.content.decode()
    assert not Preparation.objects.exists()
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


@pytest.mark.django_db
def test_cancelling_follows_the_reminder_links_rule(patient_a, front_desk):
    appointment = visit(patient_a, front_desk)
    client = signed_in(patient_a.user)

    assert client.post(f"{URL}{appointment.pk}/", {"action": "cancel"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert AuditEvent.objects.filter(action="appointment.cancelled").exists()
    # A cancelled visit is no longer on the page and cannot be cancelled again.
    assert client.post(f"{URL}{appointment.pk}/", {"action": "cancel"}).status_code == 409


@pytest.mark.django_db
def test_an_unknown_action_is_422(patient_a, front_desk):
    appointment = visit(patient_a, front_desk)

    response = signed_in(patient_a.user).post(f"{URL}{appointment.pk}/", {"action": "move"})

    assert response.status_code == 422


@pytest.mark.django_db
def test_another_patients_visit_is_not_found_and_unchanged(patient_a, patient_b, front_desk):
    appointment = visit(patient_b, front_desk)

    response = signed_in(patient_a.user).post(f"{URL}{appointment.pk}/", {"action": "cancel"})

    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


@pytest.mark.django_db
def test_staff_and_outsiders_get_404(nurse, outsider):
    assert signed_in(nurse).get(URL).status_code == 404
    assert signed_in(outsider).get(URL).status_code == 404


@pytest.mark.django_db
def test_past_sessions_show_their_discharge_instructions(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse)
    Discharge.objects.create(
        session=session,
        instructions="No driving for the rest of the day.",
        signed_by=nurse,
        observation_minutes=60,
    )

    body = signed_in(patient_a.user).get(URL).content.decode()

    assert "No driving for the rest of the day." in body


@pytest.mark.django_db
def test_the_page_links_the_education_pages_of_the_patients_plan(patient_a, prescriber, nurse):
    from ketaclinic.intake import learn

    open_session(patient_a, prescriber, nurse)  # an active IV plan for TRD
    expected = learn.pages_for({"iv", "trd"})

    body = signed_in(patient_a.user).get(URL).content.decode()

    assert expected, "the library has pages about IV ketamine for TRD"
    for page in expected:
        assert f"/learn/{page.slug}/" in body


@pytest.mark.django_db
def test_the_portal_home_links_the_preparation_intake_and_consent_pages(patient_a):
    body = signed_in(patient_a.user).get("/portal/").content.decode()

    for url in ("/portal/visits/", "/portal/intake/", "/portal/consents/"):
        assert f'href="{url}"' in body
