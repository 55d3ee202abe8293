from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.conftest import make_patient
from ketaclinic.outcomes.tests.factories import make_plan
from ketaclinic.scheduling import seed
from ketaclinic.scheduling.models import (
    AppointmentType,
    Chair,
    OpeningHours,
    Room,
    RoomKind,
    StaffShift,
)

# A Monday well in the future, so "today" never interferes.
MONDAY = dt.date(2027, 3, 1)
# The induction course the patients' signed plans propose (days after MONDAY).
PLAN_DAYS = (0, 2, 4, 7, 9, 11)
INDUCTION = [MONDAY + dt.timedelta(days=d) for d in PLAN_DAYS]


@pytest.fixture
def calendar(db, nurse, prescriber, therapist):
    """Opening hours, appointment types, two infusion chairs, a recliner, shifts Mon–Fri."""
    seed.seed(AppointmentType, OpeningHours)
    suite = Room.objects.create(name="Infusion suite", kind=RoomKind.INFUSION_SUITE)
    treatment = Room.objects.create(name="Treatment room", kind=RoomKind.TREATMENT_ROOM)
    chairs = [Chair.objects.create(room=suite, name=f"Chair {n}") for n in (1, 2)]
    recliner = Chair.objects.create(room=treatment, name="Recliner")
    for user in (nurse, prescriber, therapist):
        for weekday in range(5):
            StaffShift.objects.create(
                user=user, weekday=weekday, starts_at=dt.time(8), ends_at=dt.time(18)
            )
    return {
        "chairs": chairs,
        "recliner": recliner,
        "types": {t.code: t for t in AppointmentType.objects.all()},
    }


@pytest.fixture
def patients(db, prescriber):
    """Four patients, each with an active signed IV plan proposing the INDUCTION course
    (dosing visits are booked only against a signed plan)."""
    made = [make_patient(f"Pat{n}", f"Course{n}") for n in range(4)]
    for patient in made:
        signed_plan(patient, prescriber)
    return made


def signed_plan(patient, prescriber, route: str = "iv", days=PLAN_DAYS):
    return make_plan(patient, prescriber, start=MONDAY, route=route, days=days, status="active")
