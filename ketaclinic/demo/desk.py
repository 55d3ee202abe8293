"""The front desk's actions, replayed at the moment they were taken.

The demo builds months of history in one run. Every booking, confirmation and check-in goes
through ``scheduling/services.py`` with ``now`` set to the moment the desk acted (a course
is booked the hour after its plan was signed, a visit is checked in on its own day), so the
demo obeys the same rules as the desk: no booking into the past, check-in on the visit's
day, a treatment visit only from a signed plan, never a patient in two places at once.
"""

from __future__ import annotations

import datetime as dt

from ketaclinic.accounts.models import User
from ketaclinic.demo.plans import DemoRequest
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.scheduling import services
from ketaclinic.scheduling.models import Appointment, AppointmentType, Preparation, Status


def treatment_type(plan: TreatmentPlan) -> AppointmentType:
    """The dosing visit that matches the plan, as "Book this course" chooses it."""
    return services.course_type_for(plan)


def placeable(items, patient, *, now: dt.datetime) -> bool:
    """Whether every visit of a course has room, as the desk would see it at ``now``."""
    planned = services.course_plan(items, patient=patient, now=now)
    return bool(items) and all(not isinstance(r, services.Unplaced) for _, r in planned)


def book_course(plan: TreatmentPlan, users: dict[str, User], *, now: dt.datetime):
    """ "Book this course" on the plan's planned sessions, at the moment ``now``."""
    return services.course_book(
        request=DemoRequest(users["frontdesk"]),
        patient=plan.patient,
        items=services.plan_items(plan, now=now),
        course_key=services.plan_course_key(plan),
        now=now,
    )


def book_one(patient, kind, starts_at, users, *, now: dt.datetime, staff_id=None) -> Appointment:
    return services.appointment_book(
        request=DemoRequest(users["frontdesk"]),
        patient=patient,
        kind=kind,
        starts_at=starts_at,
        staff_id=staff_id,
        now=now,
    )


def transition(visit: Appointment, to: str, users, *, now: dt.datetime, reason: str = "") -> None:
    services.appointment_transition(
        request=DemoRequest(users["frontdesk"]),
        appointment=visit,
        to=to,
        reason=reason,
        now=now,
    )


def confirm(visit: Appointment, users, *, now: dt.datetime) -> None:
    """The patient confirmed by phone: fasting and a ride home understood."""
    transition(visit, Status.CONFIRMED, users, now=now)
    Preparation.objects.get_or_create(
        appointment=visit,
        defaults={
            "fasting_understood": True,
            "ride_arranged": True,
            "confirmed_at": now,
            "via": "phone",
        },
    )


def check_in(visit: Appointment, users, *, at: dt.datetime | None = None) -> None:
    """Checked in at the desk a few minutes before the visit (on its own day)."""
    moment = at or visit.starts_at - dt.timedelta(minutes=10)
    if visit.status == Status.SCHEDULED and visit.type.protocol_code:
        confirm(visit, users, now=visit.starts_at - dt.timedelta(days=1))
    transition(visit, Status.CHECKED_IN, users, now=moment)
