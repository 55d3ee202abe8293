from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.conftest import make_patient
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
def patients(db):
    return [make_patient(f"Pat{n}", f"Course{n}") for n in range(4)]
