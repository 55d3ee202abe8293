"""Booking writes: one appointment, a whole course, moves and status changes.

Each write checks the rules first (a date on the clinic's calendar, not in the past, a signed
plan behind every dosing visit, the patient not already in another visit), then the
placement (opening hours, shifts, absences, free chair and lane, prescriber on site), then
inserts inside one transaction. The database guards refuse any overlap that slips past the
check under concurrency (chair, staff lane and patient); that becomes ``BookingConflict``
(409), never a 5xx, and nothing of a course is left half-booked.

Every write takes ``now``: the moment the action is taken (default ``timezone.now()``). The
API and the pages never pass it; only a replay of history (the demo clinic) does. The past
and same-day rules are judged against it.

The rules and steps live beside this module, each named after what it decides:
:mod:`.availability`, :mod:`.time_rules`, :mod:`.plan_rules`, :mod:`.conflicts`,
:mod:`.visit_booking` and :mod:`.course_booking`. This module moves visits and changes their
status, and is the face the API, pages and demo import (it re-exports the rest).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from ketaclinic.audit import trail

from . import holds, slots
from .availability import availability, ensure_lanes, fill_in, only_staff, still_free
from .conflicts import (
    BookingConflict,
    conflicts_for,
    is_overlap,
    refuse_overlap,
    refuse_patient_clash,
)
from .course_booking import CourseNotPlaceable, Unplaced, course_book, course_plan
from .models import UNDO_CHECK_IN, Appointment, AppointmentEvent, Status
from .plan_rules import (
    CourseItem,
    active_plan,
    course_type_for,
    plan_course_key,
    plan_items,
    route_of,
)
from .time_rules import refuse_check_in_on_another_day, refuse_off_calendar, refuse_past
from .visit_booking import appointment_book, lane_user, placement_detail

# What the API, the pages, the demo and other apps use; the rest stays in its own module.
__all__ = [
    "BookingConflict",
    "CourseItem",
    "CourseNotPlaceable",
    "Unplaced",
    "active_plan",
    "appointment_book",
    "appointment_move",
    "appointment_transition",
    "availability",
    "course_book",
    "course_plan",
    "course_type_for",
    "ensure_lanes",
    "only_staff",
    "plan_course_key",
    "plan_items",
    "route_of",
    "status_before_check_in",
]


def appointment_move(
    *,
    request,
    appointment: Appointment,
    starts_at: dt.datetime,
    chair_id=None,
    staff_id=None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move one visit; the rest of its course stays exactly where it is.

    Contract (the demo clinic calls it too): keyword-only ``request, appointment, starts_at,
    chair_id=None, staff_id=None, now=None``; ``now`` is the moment the action is taken
    (default ``timezone.now()``). Never into the past (422); 409 when the patient, chair or
    staff member is taken at the new time.
    """
    now = now or timezone.now()
    if appointment.status not in (Status.SCHEDULED, Status.CONFIRMED):
        raise ValidationError(
            {"status": f"A {appointment.get_status_display().lower()} appointment cannot be moved."}
        )
    refuse_off_calendar(starts_at.date())
    refuse_past(starts_at, now)
    ends_at = starts_at + dt.timedelta(minutes=appointment.type.minutes)
    refuse_patient_clash(appointment.patient_id, starts_at, ends_at, appointment.pk)
    chair_id, lane_id = _place_at(appointment, starts_at, ends_at, chair_id, staff_id)
    before = placement_detail(appointment)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.chair_id, appointment.lane_id = chair_id, lane_id
    appointment.staff = lane_user(lane_id)
    try:
        _save_move(request, appointment, before, now)
    except (IntegrityError, OperationalError) as error:
        if not is_overlap(error):
            raise
        # The object still holds the new place: name what is there, then forget it.
        conflict = refuse_overlap(appointment)
        appointment.refresh_from_db()
        raise conflict from error
    return appointment


def _place_at(
    appointment: Appointment, starts_at: dt.datetime, ends_at: dt.datetime, chair_id, staff_id
) -> tuple[int | None, int | None]:
    """The chair and staff lane the visit moves to, or a 409 naming what is in the way.

    The same chair and staff member are kept when they are free at the new time.
    """
    picture = availability(
        timezone.localdate(starts_at),
        appointment.type,
        ignoring=appointment,
        patient_id=appointment.patient_id,
    )
    picture = only_staff(picture, staff_id)
    chair_id = chair_id or still_free(picture.chairs, appointment.chair_id, starts_at, ends_at)
    lane_id = still_free(picture.lanes, appointment.lane_id, starts_at, ends_at)
    chair_id, lane_id = fill_in(picture, starts_at, chair_id, lane_id)
    reason = slots.check_placement(picture, starts_at, chair_id, lane_id)
    if reason is not None:
        refuse_patient_clash(appointment.patient_id, starts_at, ends_at, appointment.pk)
        raise BookingConflict(
            f"Cannot move to {starts_at:%Y-%m-%d %H:%M}: {reason}.",
            conflicts_for(starts_at, ends_at, chair_id, lane_id, appointment.pk),
        )
    return chair_id, lane_id


def _save_move(request, appointment: Appointment, before: dict, now: dt.datetime) -> None:
    """Save the new place with a "moved" event and an audit row, both naming from and to."""
    with transaction.atomic():
        appointment.save(update_fields=["starts_at", "ends_at", "chair", "lane", "staff"])
        after = placement_detail(appointment)
        AppointmentEvent.objects.create(
            appointment=appointment,
            at=now,
            by=request.user,
            kind="moved",
            detail={"from": before, "to": after},
        )
        trail.record(
            action="appointment.move",
            request=request,
            patient_id=appointment.patient_id,
            target=appointment,
            detail={"from": before, "to": after},
        )


def status_before_check_in(appointment: Appointment) -> str | None:
    """What the visit was (scheduled or confirmed) when it was last checked in."""
    event = (
        appointment.events.filter(to_status=Status.CHECKED_IN, kind="status")
        .order_by("-at", "-id")
        .first()
    )
    return event.from_status if event is not None and event.from_status in UNDO_CHECK_IN else None


def refuse_bad_undo(appointment: Appointment, to: str, reason: str) -> None:
    before = status_before_check_in(appointment)
    if before is not None and to != before:
        raise ValidationError(
            {
                "status": f"Undoing the check-in returns the visit to "
                f"{Status(before).label.lower()}, the status it had before."
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the check-in is undone."})


def appointment_transition(
    *, request, appointment: Appointment, to: str, reason: str = "", now=None
) -> None:
    """Change status along the transition table; anything else is refused (422).

    Contract (the demo clinic calls it too): keyword-only ``request, appointment, to,
    reason="", now=None``; ``now`` is the moment the action is taken (default
    ``timezone.now()``). Check-in only on the visit's own clinic-local day; a check-in is
    undone (back to the status it had before) only with a reason, recorded as its own event.
    """
    now = now or timezone.now()
    if to not in Status.values:
        raise ValidationError({"status": f"Unknown status '{to}'."})
    if not appointment.may_become(to):
        raise ValidationError(
            {
                "status": f"An appointment that is {appointment.get_status_display().lower()} "
                f"cannot become {Status(to).label.lower()}."
            }
        )
    undo = appointment.status == Status.CHECKED_IN and to in UNDO_CHECK_IN
    if undo:
        refuse_bad_undo(appointment, to, reason)
    if appointment.status == Status.CHECKED_IN and to != Status.IN_SESSION:
        held = holds.reason_to_stay_checked_in(appointment)
        if held:
            raise ValidationError({"status": held})
    if to == Status.CHECKED_IN:
        refuse_check_in_on_another_day(appointment, now)
    previous = appointment.status
    with transaction.atomic():
        appointment.status = to
        appointment.save(update_fields=["status"])
        AppointmentEvent.objects.create(
            appointment=appointment,
            at=now,
            by=request.user,
            kind="check_in_undone" if undo else "status",
            from_status=previous,
            to_status=to,
            detail={"reason": reason} if reason else {},
        )
        trail.record(
            action="appointment.check_in_undone" if undo else f"appointment.{to}",
            request=request,
            patient_id=appointment.patient_id,
            target=appointment,
            detail={"status": [previous, to], "reason": reason},
        )
