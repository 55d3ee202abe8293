"""Demo consultation requests: one in every triage state, one of them urgent.

Each has a fixed reference, so a rerun finds it and changes nothing. The converted request
belongs to a demo patient (same name, birth date and contact), as if the desk had converted it
before the patient's first visit.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.intake import requests as checks
from ketaclinic.intake.models import ConsultationRequest, Status, TriageEvent
from ketaclinic.patients.models import Patient

# reference, given, family, birth date, conditions, urgent, path of statuses, days ago, note
REQUESTS = [
    ("DEMQ-N3W7", "Lena", "Marsh", dt.date(1992, 3, 14), ["mdd_suicidal_ideation"], True, [], 0,
     "I have been having thoughts of ending things and nothing has helped."),
    ("DEMQ-N4XA", "Omar", "Reyes", dt.date(1979, 9, 2), ["trd", "anxiety"], False, [], 1,
     "Tried three antidepressants; my psychiatrist suggested ketamine."),
    ("DEMQ-C7KT", "Priya", "Nair", dt.date(1986, 6, 30), ["ptsd"], False,
     [Status.CONTACTED], 3, "Veteran, PTSD for ten years."),
    ("DEMQ-S9HM", "Tomas", "Berg", dt.date(1969, 12, 8), ["chronic_pain", "depression"], False,
     [Status.CONTACTED, Status.CONSULTATION_SCHEDULED], 6, "Fibromyalgia and low mood."),
    ("DEMQ-D4RF", "Quinn", "Adler", dt.date(2001, 1, 19), ["other"], False,
     [Status.CONTACTED, Status.DECLINED], 9, "Looking for help with sleep."),
]  # fmt: skip
DECLINE_REASON = "Asked about insomnia only; referred to their primary care doctor."
CONVERTED_REFERENCE = "DEMQ-V6PE"


def load(users: dict[str, User]) -> int:
    """Create the demo requests that are missing; return how many were created."""
    now = timezone.now()
    created = 0
    for row in REQUESTS:
        if not ConsultationRequest.objects.filter(reference=row[0]).exists():
            add(row, users, now)
            created += 1
    created += add_converted(users, now)
    if created:
        trail.record(
            action="demo.load", actor_username="demo", detail={"consultation_requests": created}
        )
    return created


def add(row, users: dict[str, User], now: dt.datetime) -> ConsultationRequest:
    reference, given, family, born, conditions, urgent, path, days_ago, message = row
    sent = now - dt.timedelta(days=days_ago, hours=2)
    email = f"{given.lower()}.{family.lower()}@example.org"
    consultation = ConsultationRequest.objects.create(
        reference=reference,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        email=email,
        phone="555 010 " + str(1000 + len(given) * 111),
        state_or_region="Oregon",
        conditions=conditions,
        preferred_contact="phone",
        message=message,
        consent_to_contact=True,
        suicidal_thoughts=urgent,
        urgent=urgent,
        fingerprint=checks.fingerprint(given, family, born, email),
        created_at=sent,
        updated_at=sent,
    )
    TriageEvent.objects.create(request=consultation, at=sent, to_status=Status.NEW)
    walk(consultation, path, users["frontdesk"], sent)
    return consultation


def walk(consultation, path, by: User, sent: dt.datetime) -> None:
    at, status = sent, Status.NEW
    for step in path:
        at += dt.timedelta(hours=20)
        note = DECLINE_REASON if step == Status.DECLINED else ""
        TriageEvent.objects.create(
            request=consultation, at=at, by=by, from_status=status, to_status=step, note=note
        )
        status = step
    consultation.status = status
    consultation.decline_reason = DECLINE_REASON if status == Status.DECLINED else ""
    consultation.updated_at = at
    consultation.save(update_fields=["status", "decline_reason", "updated_at"])


def add_converted(users: dict[str, User], now: dt.datetime) -> int:
    if ConsultationRequest.objects.filter(reference=CONVERTED_REFERENCE).exists():
        return 0
    patient = Patient.objects.order_by("created_at", "id").first()
    if patient is None:
        return 0
    sent = min(patient.created_at, now) - dt.timedelta(days=3)
    email = patient.email or f"{patient.given_name.lower()}@example.org"
    consultation = ConsultationRequest.objects.create(
        reference=CONVERTED_REFERENCE,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        email=email,
        phone=patient.phone or "555 010 2000",
        state_or_region=patient.region or "Oregon",
        conditions=["trd"],
        preferred_contact="email",
        message="Referred by my psychiatrist.",
        consent_to_contact=True,
        fingerprint=checks.fingerprint(
            patient.given_name, patient.family_name, patient.date_of_birth, email
        ),
        created_at=sent,
        updated_at=sent,
        patient=patient,
        status=Status.CONVERTED,
    )
    TriageEvent.objects.create(request=consultation, at=sent, to_status=Status.NEW)
    by = users["frontdesk"]
    TriageEvent.objects.create(
        request=consultation,
        at=sent + dt.timedelta(days=1),
        by=by,
        from_status=Status.NEW,
        to_status=Status.CONTACTED,
    )
    TriageEvent.objects.create(
        request=consultation,
        at=sent + dt.timedelta(days=2),
        by=by,
        from_status=Status.CONTACTED,
        to_status=Status.CONVERTED,
        note=f"Patient {patient.mrn} created.",
    )
    return 1
