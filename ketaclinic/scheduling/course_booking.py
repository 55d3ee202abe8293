"""Booking a whole course: every visit placed in memory first (each later visit seeing the
earlier ones), then all inserted in one transaction; or none, with the reason for each visit
that could not be placed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail

from . import slots
from .availability import availability, fill_in, only_staff, with_taken
from .conflicts import clash_message, patient_clashes
from .models import (
    Appointment,
)
from .plan_rules import CourseItem, course_overrides, plan_course_key
from .time_rules import refuse_off_calendar
from .visit_booking import insert, lane_user


@dataclass(frozen=True)
class Unplaced:
    number: int
    date: dt.date
    reason: str


class CourseNotPlaceable(Exception):
    def __init__(self, unplaced: Sequence[Unplaced]):
        super().__init__(f"{len(unplaced)} session(s) could not be placed")
        self.unplaced = list(unplaced)


def course_plan(
    items: Sequence[CourseItem], *, patient=None, now: dt.datetime | None = None
) -> list[tuple[CourseItem, slots.Placement | Unplaced]]:
    """Where each visit of a course would go, booking them one after another in memory.

    With ``patient``, no two visits (the course's own or already booked) overlap for them.
    """
    now = now or timezone.now()
    patient_id = patient.pk if patient is not None else None
    taken: dict[dt.date, list[slots.Placement]] = {}
    planned = []
    for item in items:
        picture = availability(item.date, item.type, patient_id=patient_id, not_before=now)
        picture = only_staff(with_taken(picture, taken.get(item.date, [])), item.staff_id)
        if item.starts_at is not None:
            result = fixed_placement(picture, item, patient_id)
        else:
            found = slots.first_placement(picture)
            result = (
                Unplaced(item.number, item.date, found.reason)
                if isinstance(found, slots.NoPlacement)
                else found
            )
        if isinstance(result, slots.Placement):
            taken.setdefault(item.date, []).append(result)
        planned.append((item, result))
    return planned


def fixed_placement(picture: slots.Day, item: CourseItem, patient_id) -> slots.Placement | Unplaced:
    """The placement at the time the desk chose, or why it cannot be there."""
    ends_at = item.starts_at + dt.timedelta(minutes=item.type.minutes)
    if patient_id is not None:
        clashes = patient_clashes(patient_id, item.starts_at, ends_at)
        if clashes:
            return Unplaced(item.number, item.date, clash_message(clashes[0]).rstrip("."))
    chair_id, lane_id = fill_in(picture, item.starts_at, item.chair_id, None)
    reason = slots.check_placement(picture, item.starts_at, chair_id, lane_id)
    if reason:
        return Unplaced(item.number, item.date, reason)
    return slots.Placement(item.starts_at, ends_at, chair_id, lane_id)


def refuse_past_visits(items: Sequence[CourseItem], now: dt.datetime) -> None:
    """Every visit of a course is on the calendar and from today on (422, field visits)."""
    today = timezone.localdate(now)
    for item in items:
        refuse_off_calendar(item.date, "visits")
        if item.starts_at is not None:
            refuse_off_calendar(item.starts_at.date(), "visits")
        if item.date < today or (item.starts_at is not None and item.starts_at < now):
            raise ValidationError(
                {"visits": f"Visit {item.number} on {item.date:%a %d %b %Y} has already passed."}
            )


def course_book(
    *,
    request,
    patient,
    items: Sequence[CourseItem],
    course_key: str = "",
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> list[Appointment]:
    """Book a whole course at once: every visit, or none with the reasons why.

    Contract (the demo clinic calls it too): keyword-only ``request, patient, items,
    course_key="", override_reason="", now=None``; ``now`` is the moment the action is taken
    (default ``timezone.now()``). A dosing course is booked from the patient's active signed
    plan: its planned sessions' numbers and dates. Another plan, no plan or other dates need
    a prescriber's ``override_reason`` (422 otherwise). A course from the plan gets the
    course key ``plan-<id>`` unless one is given.
    """
    now = now or timezone.now()
    refuse_past_visits(items, now)
    plan, overrides = course_overrides(request, patient, items, override_reason)
    planned = course_plan(items, patient=patient, now=now)
    unplaced = [result for _, result in planned if isinstance(result, Unplaced)]
    if unplaced:
        trail.record(
            action="course.book",
            request=request,
            patient=patient,
            outcome="refused",
            detail={"unplaced": [u.__dict__ for u in unplaced]},
        )
        raise CourseNotPlaceable(unplaced)
    if not course_key:
        from_plan = plan is not None and not overrides
        course_key = plan_course_key(plan) if from_plan else f"course-{uuid.uuid4().hex[:12]}"
    booked = []
    with transaction.atomic():
        for item, placement in planned:
            appointment = Appointment(
                patient=patient,
                type=item.type,
                starts_at=placement.starts_at,
                ends_at=placement.ends_at,
                chair_id=placement.chair_id,
                lane_id=placement.lane_id,
                staff=lane_user(placement.lane_id),
                course_key=course_key,
                course_number=item.number,
                created_by=request.user,
                created_at=now,
            )
            insert(request, appointment, overrides=overrides, now=now)
            booked.append(appointment)
    return booked
