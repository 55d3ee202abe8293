"""Booking writes: one appointment, a whole course, moves and status changes.

Each write checks the placement (opening hours, shifts, absences, free chair and lane,
prescriber on site), then inserts inside one transaction. The database guards refuse any
overlap that slips past the check under concurrency; that becomes ``BookingConflict``
(409), never a 5xx, and nothing of a course is left half-booked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail

from . import seed, slots
from .models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    Chair,
    ClosedDay,
    OpeningHours,
    RoomKind,
    StaffAbsence,
    StaffLane,
    StaffShift,
    Status,
    clinic_datetime,
)


class BookingConflict(Exception):
    """The slot is taken; ``conflicts`` are the appointments in the way (may be empty)."""

    def __init__(self, message: str, conflicts: Sequence[Appointment] = ()):
        super().__init__(message)
        self.message = message
        self.conflicts = list(conflicts)


@dataclass(frozen=True)
class Unplaced:
    number: int
    date: dt.date
    reason: str


class CourseNotPlaceable(Exception):
    def __init__(self, unplaced: Sequence[Unplaced]):
        super().__init__(f"{len(unplaced)} session(s) could not be placed")
        self.unplaced = list(unplaced)


@dataclass(frozen=True)
class CourseItem:
    """One visit of a course: the date, and optionally the exact place the desk chose."""

    number: int
    date: dt.date
    type: AppointmentType
    starts_at: dt.datetime | None = None
    chair_id: int | None = None
    staff_id: int | None = None


# ---------------------------------------------------------------- availability


def ensure_lanes(user: User) -> list[StaffLane]:
    """A nurse watches several chairs at once (clinic policy); everyone else one patient."""
    wanted = seed.policy_value("nurse_chairs_at_once") if user.role == Role.NURSE else 1
    existing = list(user.lanes.filter(number__lte=wanted).order_by("number"))
    if len(existing) < wanted:
        # Concurrent requests may create the same lanes; the unique constraint keeps one.
        StaffLane.objects.bulk_create(
            [StaffLane(user=user, number=n) for n in range(1, wanted + 1)], ignore_conflicts=True
        )
        existing = list(user.lanes.filter(number__lte=wanted).order_by("number"))
    return existing


def merge(windows: Sequence[slots.Interval]) -> tuple[slots.Interval, ...]:
    merged: list[slots.Interval] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def staff_windows(day: dt.date, role: str) -> dict[User, tuple[slots.Interval, ...]]:
    """Working windows that day, absences cut out, for every active user with ``role``."""
    shifts = StaffShift.objects.filter(
        weekday=day.weekday(), user__role=role, user__is_active=True
    ).select_related("user")
    start, end = clinic_datetime(day, dt.time(0)), clinic_datetime(day, dt.time(23, 59))
    absences = StaffAbsence.objects.filter(starts_at__lt=end, ends_at__gt=start)
    away: dict[int, list[slots.Interval]] = {}
    for absence in absences:
        away.setdefault(absence.user_id, []).append((absence.starts_at, absence.ends_at))
    windows: dict[User, list[slots.Interval]] = {}
    for shift in shifts:
        window = (clinic_datetime(day, shift.starts_at), clinic_datetime(day, shift.ends_at))
        windows.setdefault(shift.user, []).append(window)
    return {
        user: slots.subtract(merge(spans), away.get(user.pk, ())) for user, spans in windows.items()
    }


def busy_by(appointments, key: str) -> dict[int, list[slots.Interval]]:
    busy: dict[int, list[slots.Interval]] = {}
    for appointment in appointments:
        resource = getattr(appointment, key)
        if resource is not None:
            busy.setdefault(resource, []).append((appointment.starts_at, appointment.ends_at))
    return busy


def availability(
    day: dt.date, kind: AppointmentType, *, ignoring: Appointment | None = None
) -> slots.Day:
    """The plain-data picture of ``day`` that ``slots`` needs to place a ``kind`` visit."""
    hours = OpeningHours.objects.filter(weekday=day.weekday()).first()
    closed = ClosedDay.objects.filter(date=day).first()
    opening = None
    if hours is not None and closed is None:
        opening = (clinic_datetime(day, hours.opens_at), clinic_datetime(day, hours.closes_at))
    booked = (
        Appointment.objects.on_day(day)
        .holding()
        .only("id", "starts_at", "ends_at", "chair_id", "lane_id")
    )
    if ignoring is not None:
        booked = booked.exclude(pk=ignoring.pk)
    busy_chairs, busy_lanes = busy_by(booked, "chair_id"), busy_by(booked, "lane_id")
    needs_chair = kind.place != RoomKind.CONSULT_ROOM
    chairs = ()
    if needs_chair and opening is not None:
        chairs = tuple(
            slots.Resource(c.pk, (opening,), tuple(busy_chairs.get(c.pk, ())), str(c))
            for c in Chair.objects.filter(
                active=True, room__active=True, room__kind=kind.place
            ).select_related("room")
        )
    lanes = []
    for user, windows in staff_windows(day, kind.staff_role).items():
        for lane in ensure_lanes(user):
            label = user.display_name
            lanes.append(
                slots.Resource(lane.pk, windows, tuple(busy_lanes.get(lane.pk, ())), label)
            )
    on_site = None
    if kind.prescriber_on_site:
        on_site = merge(
            [w for spans in staff_windows(day, Role.PRESCRIBER).values() for w in spans]
        )
    return slots.Day(
        open=opening,
        minutes=kind.minutes,
        step_minutes=seed.policy_value("slot_step_minutes"),
        chairs=chairs,
        lanes=tuple(lanes),
        prescriber_on_site=on_site,
        closed_reason=closed.reason if closed else ("" if hours else "not an opening day"),
        needs_chair=needs_chair,
    )


# ---------------------------------------------------------------- conflicts


def conflicts_for(
    starts_at: dt.datetime, ends_at: dt.datetime, chair_id, lane_id, ignoring_id=None
) -> list[Appointment]:
    by_resource = Q(pk__in=[])
    if chair_id:
        by_resource |= Q(chair_id=chair_id)
    if lane_id:
        by_resource |= Q(lane_id=lane_id)
    found = Appointment.objects.overlapping(starts_at, ends_at).filter(by_resource)
    if ignoring_id:
        found = found.exclude(pk=ignoring_id)
    return list(found.select_related("type", "chair__room", "staff"))


def refuse_overlap(appointment: Appointment) -> BookingConflict:
    """Turn a database refusal into a 409 that names what is in the way."""
    conflicts = conflicts_for(
        appointment.starts_at,
        appointment.ends_at,
        appointment.chair_id,
        appointment.lane_id,
        appointment.pk,
    )
    return BookingConflict(
        "That time was just taken on the same chair or staff member; pick another.",
        conflicts,
    )


# ---------------------------------------------------------------- writes


def lane_user(lane_id: int) -> User:
    return StaffLane.objects.select_related("user").get(pk=lane_id).user


def appointment_book(
    *,
    request,
    patient,
    kind: AppointmentType,
    starts_at: dt.datetime,
    chair_id: int | None = None,
    staff_id: int | None = None,
) -> Appointment:
    """Book one visit. Without chair or staff, the first free ones at that time are used."""
    picture = only_staff(availability(timezone.localdate(starts_at), kind), staff_id)
    chair_id, lane_id = fill_in(picture, starts_at, chair_id, None)
    reason = slots.check_placement(picture, starts_at, chair_id, lane_id)
    if reason is not None:
        ends_at = starts_at + dt.timedelta(minutes=kind.minutes)
        raise BookingConflict(
            f"Cannot book {kind.name} at {starts_at:%Y-%m-%d %H:%M}: {reason}.",
            conflicts_for(starts_at, ends_at, chair_id, lane_id),
        )
    appointment = Appointment(
        patient=patient,
        type=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=kind.minutes),
        chair_id=chair_id,
        lane_id=lane_id,
        staff=lane_user(lane_id),
        created_by=request.user,
    )
    insert(request, appointment)
    return appointment


def only_staff(picture: slots.Day, staff_id: int | None) -> slots.Day:
    """The day with only ``staff_id``'s lanes, when the desk chose a person."""
    if staff_id is None:
        return picture
    lanes = set(StaffLane.objects.filter(user_id=staff_id).values_list("pk", flat=True))
    return dataclasses.replace(picture, lanes=tuple(r for r in picture.lanes if r.id in lanes))


def fill_in(picture: slots.Day, starts_at, chair_id, lane_id) -> tuple[int | None, int | None]:
    """Pick free resources at exactly ``starts_at`` for whatever the caller left open."""
    end = starts_at + dt.timedelta(minutes=picture.minutes)
    if picture.needs_chair and chair_id is None:
        chair = next((c for c in picture.chairs if slots.usable(c, starts_at, end)), None)
        chair_id = chair.id if chair else None
    if lane_id is None:
        lane = next((lane for lane in picture.lanes if slots.usable(lane, starts_at, end)), None)
        lane_id = lane.id if lane else None
    return chair_id, lane_id


def insert(request, appointment: Appointment) -> None:
    try:
        with transaction.atomic():
            appointment.save(force_insert=True)
            AppointmentEvent.objects.create(
                appointment=appointment,
                by=request.user,
                kind="booked",
                to_status=appointment.status,
                detail=placement_detail(appointment),
            )
            trail.record(
                action="appointment.book",
                request=request,
                patient_id=appointment.patient_id,
                target=appointment,
                detail=placement_detail(appointment),
            )
    except (IntegrityError, OperationalError) as error:
        if not is_overlap(error):
            raise
        raise refuse_overlap(appointment) from error


def is_overlap(error: Exception) -> bool:
    return "no_overlap" in str(error)


def placement_detail(appointment: Appointment) -> dict:
    return {
        "type": appointment.type.code,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "chair_id": appointment.chair_id,
        "staff_id": appointment.staff_id,
        "course_key": appointment.course_key,
        "course_number": appointment.course_number,
    }


def course_plan(items: Sequence[CourseItem]) -> list[tuple[CourseItem, slots.Placement | Unplaced]]:
    """Where each visit of a course would go, booking them one after another in memory."""
    taken: dict[dt.date, list[slots.Placement]] = {}
    planned = []
    for item in items:
        picture = with_taken(availability(item.date, item.type), taken.get(item.date, []))
        picture = only_staff(picture, item.staff_id)
        if item.starts_at is not None:
            chair_id, lane_id = fill_in(picture, item.starts_at, item.chair_id, None)
            reason = slots.check_placement(picture, item.starts_at, chair_id, lane_id)
            result = (
                Unplaced(item.number, item.date, reason)
                if reason
                else slots.Placement(
                    item.starts_at,
                    item.starts_at + dt.timedelta(minutes=item.type.minutes),
                    chair_id,
                    lane_id,
                )
            )
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


def with_taken(picture: slots.Day, taken: Sequence[slots.Placement]) -> slots.Day:
    """The day as it will be once earlier visits of the same course are in."""
    if not taken:
        return picture

    def add(resource: slots.Resource, key: str) -> slots.Resource:
        extra = tuple((p.starts_at, p.ends_at) for p in taken if getattr(p, key) == resource.id)
        return slots.Resource(
            resource.id, resource.available, resource.busy + extra, resource.label
        )

    return dataclasses.replace(
        picture,
        chairs=tuple(add(c, "chair_id") for c in picture.chairs),
        lanes=tuple(add(lane, "lane_id") for lane in picture.lanes),
    )


def course_book(
    *, request, patient, items: Sequence[CourseItem], course_key: str = ""
) -> list[Appointment]:
    """Book a whole course at once: every visit, or none with the reasons why."""
    planned = course_plan(items)
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
    course_key = course_key or f"course-{uuid.uuid4().hex[:12]}"
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
            )
            insert(request, appointment)
            booked.append(appointment)
    return booked


def appointment_move(
    *, request, appointment: Appointment, starts_at: dt.datetime, chair_id=None, staff_id=None
) -> Appointment:
    """Move one visit; the rest of its course stays exactly where it is."""
    if appointment.status not in (Status.SCHEDULED, Status.CONFIRMED):
        raise ValidationError(
            {"status": f"A {appointment.get_status_display().lower()} appointment cannot be moved."}
        )
    picture = availability(timezone.localdate(starts_at), appointment.type, ignoring=appointment)
    picture = only_staff(picture, staff_id)
    ends_at = starts_at + dt.timedelta(minutes=appointment.type.minutes)
    # Keep the same chair and staff member when they are free at the new time.
    chair_id = chair_id or still_free(picture.chairs, appointment.chair_id, starts_at, ends_at)
    lane_id = still_free(picture.lanes, appointment.lane_id, starts_at, ends_at)
    chair_id, lane_id = fill_in(picture, starts_at, chair_id, lane_id)
    reason = slots.check_placement(picture, starts_at, chair_id, lane_id)
    if reason is not None:
        raise BookingConflict(
            f"Cannot move to {starts_at:%Y-%m-%d %H:%M}: {reason}.",
            conflicts_for(starts_at, ends_at, chair_id, lane_id, appointment.pk),
        )
    before = placement_detail(appointment)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.chair_id, appointment.lane_id = chair_id, lane_id
    appointment.staff = lane_user(lane_id)
    try:
        with transaction.atomic():
            appointment.save(update_fields=["starts_at", "ends_at", "chair", "lane", "staff"])
            after = placement_detail(appointment)
            AppointmentEvent.objects.create(
                appointment=appointment,
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
    except (IntegrityError, OperationalError) as error:
        if not is_overlap(error):
            raise
        appointment.refresh_from_db()
        raise refuse_overlap(appointment) from error
    return appointment


def still_free(resources, resource_id, start, end) -> int | None:
    resource = next((r for r in resources if r.id == resource_id), None)
    return resource_id if resource is not None and slots.usable(resource, start, end) else None


def appointment_transition(*, request, appointment: Appointment, to: str, reason: str = "") -> None:
    """Change status along the transition table; anything else is refused (422)."""
    if to not in Status.values:
        raise ValidationError({"status": f"Unknown status '{to}'."})
    if not appointment.may_become(to):
        raise ValidationError(
            {
                "status": f"An appointment that is {appointment.get_status_display().lower()} "
                f"cannot become {Status(to).label.lower()}."
            }
        )
    previous = appointment.status
    with transaction.atomic():
        appointment.status = to
        appointment.save(update_fields=["status"])
        AppointmentEvent.objects.create(
            appointment=appointment,
            by=request.user,
            kind="status",
            from_status=previous,
            to_status=to,
            detail={"reason": reason} if reason else {},
        )
        trail.record(
            action=f"appointment.{to}",
            request=request,
            patient_id=appointment.patient_id,
            target=appointment,
            detail={"status": [previous, to], "reason": reason},
        )
