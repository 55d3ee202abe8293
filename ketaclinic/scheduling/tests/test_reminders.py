"""Preparation reminders go out once per channel, say what the protocol requires, and
carry a link through which the patient confirms preparation or cancels."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.outcomes.models import InstrumentDefinition, MeasurementTask, QuestionnaireLink
from ketaclinic.outcomes.seeding import seed_instruments
from ketaclinic.scheduling.models import Appointment, AppointmentType, Reminder, Status
from ketaclinic.scheduling.sms import LoggingSmsBackend


@pytest.fixture(autouse=True)
def empty_outboxes():
    LoggingSmsBackend.outbox.clear()


def send_reminders() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def visit(patient, kind_code: str, front_desk, hours_ahead: int = 24) -> Appointment:
    kind = AppointmentType.objects.get(code=kind_code)
    start = timezone.now() + dt.timedelta(hours=hours_ahead)
    return Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        created_by=front_desk,
    )


@pytest.fixture
def reachable(patients):
    patient = patients[0]
    patient.email, patient.phone = "pat@example.org", "860-555-0101"
    patient.save()
    return patient


def test_an_iv_reminder_gives_the_fasting_ride_and_driving_instructions(
    calendar, reachable, front_desk
):
    visit(reachable, "iv_infusion", front_desk)
    send_reminders()
    [email] = mail.outbox
    assert "Do not eat for 4–6 hours before your visit." in email.body
    assert "responsible adult to take you home" in email.body
    assert "No driving for the rest of the day." in email.body
    assert "/confirm/" in email.body
    [(to, body)] = LoggingSmsBackend.outbox
    assert to == "860-555-0101"
    assert body == email.body


def test_an_esketamine_reminder_has_the_label_preparation(calendar, reachable, front_desk):
    visit(reachable, "esketamine", front_desk)
    send_reminders()
    body = mail.outbox[0].body
    assert "Do not eat for 2 hours" in body
    assert "Do not drink anything for 30 minutes" in body
    assert "nasal steroid or decongestant at least 1 hour" in body
    assert "No driving until the next day, after a restful sleep." in body


def test_a_reminder_is_never_sent_twice(calendar, reachable, front_desk):
    appointment = visit(reachable, "iv_infusion", front_desk)
    send_reminders()
    send_reminders()
    assert len(mail.outbox) == 1
    assert len(LoggingSmsBackend.outbox) == 1
    assert set(
        Reminder.objects.filter(appointment=appointment).values_list("channel", flat=True)
    ) == {"email", "sms"}
    assert AuditEvent.objects.filter(action="reminder.sent").count() == 2


def test_visits_outside_the_window_or_cancelled_get_no_reminder(calendar, reachable, front_desk):
    visit(reachable, "iv_infusion", front_desk, hours_ahead=24 * 5)
    cancelled = visit(reachable, "iv_infusion", front_desk, hours_ahead=30)
    Appointment.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)
    send_reminders()
    assert mail.outbox == []


def link_from(body: str) -> str:
    return re.search(r"http://[^\s]+/confirm/[^\s]+/", body).group(0).split("8000", 1)[1]


def test_the_patient_confirms_preparation_through_the_link(calendar, reachable, front_desk):
    appointment = visit(reachable, "iv_infusion", front_desk)
    send_reminders()
    link = link_from(mail.outbox[0].body)
    page = Client().get(link)
    assert page.status_code == 200
    assert "Do not eat for 4–6 hours" in page.content.decode()

    refused = Client().post(link, {"action": "confirm", "fasting_understood": "on"})
    assert refused.status_code == 422
    assert "arranged for someone to take you home" in refused.content.decode()

    done = Client().post(
        link, {"action": "confirm", "fasting_understood": "on", "ride_arranged": "on"}
    )
    assert done.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED
    assert appointment.preparation.fasting_understood
    assert appointment.preparation.ride_arranged
    assert AuditEvent.objects.filter(
        action="appointment.confirmed", actor_username="patient-link"
    ).exists()


def test_the_patient_can_cancel_through_the_link(calendar, reachable, front_desk):
    appointment = visit(reachable, "iv_infusion", front_desk)
    send_reminders()
    Client().post(link_from(mail.outbox[0].body), {"action": "cancel"})
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.events.get(kind="status").detail["via"] == "patient-link"


def test_a_forged_link_is_not_found(calendar):
    assert Client().get("/confirm/not-a-real-token/").status_code == 404
    assert AuditEvent.objects.filter(action="appointment.link_refused").exists()


def test_a_reminder_carries_a_single_use_link_to_the_questionnaires_due(
    calendar, reachable, front_desk, prescriber
):
    seed_instruments()
    plan = reachable.plans.get(status="active")  # the signed plan every patient here has
    MeasurementTask.objects.create(
        patient=reachable,
        plan=plan,
        instrument=InstrumentDefinition.objects.get(code="phq9"),
        reason="pre_session",
        opens_on=timezone.localdate(),
        due_on=timezone.localdate() + dt.timedelta(days=1),
    )
    visit(reachable, "iv_infusion", front_desk)
    send_reminders()
    body = mail.outbox[0].body
    assert "Before your visit, please answer: Patient Health Questionnaire-9 (PHQ-9)" in body
    assert QuestionnaireLink.objects.filter(patient=reachable).count() == 1
