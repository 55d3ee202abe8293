"""Staff re-send a visit's reminder link or a questionnaire link from the chart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.models import QuestionnaireLink
from ketaclinic.scheduling import reminders, seed
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    OpeningHours,
    Reminder,
    Status,
)
from ketaclinic.scheduling.sms import LoggingSmsBackend


@pytest.fixture(autouse=True)
def empty_outboxes():
    LoggingSmsBackend.outbox.clear()


@pytest.fixture
def reachable(patient_a):
    patient_a.email, patient_a.phone = "ada@example.org", "860-555-0101"
    patient_a.save()
    return patient_a


def visit(patient, by, hours_ahead=24) -> Appointment:
    seed.seed(AppointmentType, OpeningHours)
    kind = AppointmentType.objects.get(code="iv_infusion")
    start = timezone.now() + dt.timedelta(hours=hours_ahead)
    return Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        created_by=by,
    )


def resend_url(patient, appointment) -> str:
    return f"/patients/{patient.pk}/resend/visits/{appointment.pk}/"


@pytest.mark.django_db
def test_the_front_desk_resends_a_reminder_after_the_automatic_one(reachable, front_desk):
    appointment = visit(reachable, front_desk)
    reminders.send_due()
    assert Reminder.objects.filter(appointment=appointment).count() == 2
    client = signed_in(front_desk)

    first = client.post(resend_url(reachable, appointment))
    second = client.post(resend_url(reachable, appointment))

    assert (first.status_code, second.status_code) == (302, 302)
    kinds = sorted(Reminder.objects.filter(appointment=appointment).values_list("channel", "kind"))
    assert kinds == [
        ("email", "preparation"),
        ("email", "resend-1"),
        ("email", "resend-2"),
        ("sms", "preparation"),
        ("sms", "resend-1"),
        ("sms", "resend-2"),
    ]
    assert len(mail.outbox) == 3
    assert "/confirm/" in mail.outbox[-1].body
    assert len(LoggingSmsBackend.outbox) == 3
    assert (
        AuditEvent.objects.filter(
            action="reminder.resent", actor=front_desk, patient_id=reachable.pk
        ).count()
        == 4
    )


@pytest.mark.django_db
def test_a_cancelled_visit_is_not_reminded(reachable, front_desk):
    appointment = visit(reachable, front_desk)
    Appointment.objects.filter(pk=appointment.pk).update(status=Status.CANCELLED)

    response = signed_in(front_desk).post(resend_url(reachable, appointment))

    assert response.status_code == 422
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_a_patient_without_email_or_phone_gets_a_clear_422(patient_a, front_desk):
    appointment = visit(patient_a, front_desk)

    response = signed_in(front_desk).post(resend_url(patient_a, appointment))

    assert response.status_code == 422
    assert "no email address or mobile number" in response.content.decode()


@pytest.mark.django_db
def test_a_questionnaire_link_is_sent_fresh(reachable, nurse):
    response = signed_in(nurse).post(f"/patients/{reachable.pk}/resend/questionnaire-link/")

    assert response.status_code == 302
    assert QuestionnaireLink.objects.filter(patient=reachable, created_by=nurse).count() == 1
    assert "/portal/questionnaires/link/" in mail.outbox[0].body
    assert len(LoggingSmsBackend.outbox) == 1
    assert AuditEvent.objects.filter(action="outcome.link_sent", actor=nurse).exists()


@pytest.mark.django_db
def test_the_reminders_tab_lists_what_was_sent(reachable, front_desk):
    visit(reachable, front_desk)
    reminders.send_due()

    response = signed_in(front_desk).get(f"/patients/{reachable.pk}/tab/reminders/")

    assert response.status_code == 200
    assert "Re-send reminder" in response.content.decode()


@pytest.mark.django_db
def test_who_may_resend(reachable, front_desk, therapist, clinic_admin, patient_b, outsider):
    appointment = visit(reachable, front_desk)
    url = resend_url(reachable, appointment)

    assert signed_in(therapist).post(url).status_code == 403
    assert signed_in(clinic_admin).post(url).status_code == 403
    assert signed_in(patient_b.user).post(url).status_code == 404
    assert signed_in(outsider).post(url).status_code == 404
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_a_visit_of_another_patient_is_not_found(reachable, patient_b, front_desk):
    appointment = visit(patient_b, front_desk)

    response = signed_in(front_desk).post(resend_url(reachable, appointment))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_resend_before_the_window_does_not_stop_the_automatic_reminder(reachable, front_desk):
    appointment = visit(reachable, front_desk)
    signed_in(front_desk).post(resend_url(reachable, appointment))

    assert reminders.send_due() == 2

    kinds = set(Reminder.objects.filter(appointment=appointment).values_list("kind", flat=True))
    assert kinds == {"resend-1", "preparation"}
