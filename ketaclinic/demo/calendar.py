"""The demo clinic's calendar: staff shifts and a busy month around today.

Visits are placed with the same slot finder the front desk uses, so the demo never shows
what the real system would refuse. Past visits are completed (a few missed or cancelled),
future ones scheduled or confirmed. Loaded once: a clinic with appointments is left alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import seed, services, slots
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    OpeningHours,
    Preparation,
    StaffShift,
    Status,
    clinic_datetime,
)

SEED = 4
# Weekday shifts (clinic local time) of the demo staff.
SHIFTS = {
    "prescriber": (dt.time(8), dt.time(18)),
    "prescriber2": (dt.time(8), dt.time(14)),
    "nurse": (dt.time(8), dt.time(16)),
    "nurse2": (dt.time(10), dt.time(18)),
    "therapist": (dt.time(9), dt.time(17)),
}
IV_INDUCTION_OFFSETS = (0, 2, 4, 7, 9, 11)  # six infusions in under three weeks (seeds 000, 002)
ESKETAMINE_OFFSETS = (0, 3, 7, 10, 14, 17, 21, 24)  # twice weekly, weeks 1-4 (label)


def load(users: dict[str, User]) -> int:
    """Shifts for every clinician, then courses and visits; returns visits created."""
    seed.seed(AppointmentType, OpeningHours)
    ensure_shifts(users)
    if Appointment.objects.exists():
        return 0
    rng = random.Random(SEED)
    today = timezone.localdate()
    patients = list(Patient.objects.filter(mrn__startswith="DEMO").order_by("mrn"))
    kinds = {kind.code: kind for kind in AppointmentType.objects.all()}
    created = 0
    for index, patient in enumerate(patients[:28]):
        start = working_day(today + dt.timedelta(days=rng.randint(-18, 12)))
        if index % 4 == 3:
            created += place_course(
                patient, kinds["esketamine"], start, ESKETAMINE_OFFSETS, users, rng, today
            )
        else:
            created += place_course(
                patient, kinds["iv_infusion"], start, IV_INDUCTION_OFFSETS, users, rng, today
            )
        created += place_one(
            patient, kinds["integration_therapy"], start + dt.timedelta(days=1), users, rng, today
        )
    for patient in patients[28:]:
        day = working_day(today + dt.timedelta(days=rng.randint(-10, 14)))
        created += place_one(patient, kinds["consultation"], day, users, rng, today)
    return created


def ensure_shifts(users: dict[str, User]) -> None:
    for username, (starts, ends) in SHIFTS.items():
        user = users[username]
        for weekday in range(5):
            StaffShift.objects.get_or_create(
                user=user, weekday=weekday, defaults={"starts_at": starts, "ends_at": ends}
            )
        services.ensure_lanes(user)


def working_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def place_course(patient, kind, start, offsets, users, rng, today) -> int:
    course_key = f"demo-{patient.mrn.lower()}-{kind.code}"
    created = 0
    for number, offset in enumerate(offsets, start=1):
        created += place_one(
            patient,
            kind,
            working_day(start + dt.timedelta(days=offset)),
            users,
            rng,
            today,
            course_key=course_key,
            course_number=number,
        )
    return created


def place_one(patient, kind, day, users, rng, today, course_key="", course_number=None) -> int:
    # Patients ask for different times of day; start looking from a random hour.
    wanted = clinic_datetime(day, dt.time(rng.randint(8, 14), rng.choice([0, 30])))
    picture = dataclasses.replace(services.availability(day, kind), not_before=wanted)
    found = slots.first_placement(picture)
    if isinstance(found, slots.NoPlacement):
        found = slots.first_placement(services.availability(day, kind))
    if isinstance(found, slots.NoPlacement):
        return 0
    status = demo_status(day, today, rng)
    appointment = Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=found.starts_at,
        ends_at=found.ends_at,
        chair_id=found.chair_id,
        lane_id=found.lane_id,
        staff=services.lane_user(found.lane_id),
        status=status,
        course_key=course_key,
        course_number=course_number,
        created_by=users["frontdesk"],
    )
    AppointmentEvent.objects.create(
        appointment=appointment, by=users["frontdesk"], kind="booked", to_status=status
    )
    if status == Status.CONFIRMED or (status == Status.COMPLETED and kind.protocol_code):
        Preparation.objects.create(
            appointment=appointment, fasting_understood=True, ride_arranged=True
        )
    return 1


def demo_status(day: dt.date, today: dt.date, rng: random.Random) -> str:
    if day < today:
        return rng.choices(
            [Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED], weights=[90, 4, 6]
        )[0]
    if day <= today + dt.timedelta(days=2):
        return rng.choice([Status.SCHEDULED, Status.CONFIRMED])
    return Status.SCHEDULED
