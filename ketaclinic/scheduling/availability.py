"""A day's availability as plain data for ``slots``, and picking free places in it.

Opening hours and closed days, staff shifts with absences cut out, chairs and staff lanes with
their booked visits, the patient's own visits (a patient is never in two at once); then the
first free chair and lane at a chosen time, or the same ones when a visit moves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role

from . import seed, slots
from .models import (
    Appointment,
    AppointmentType,
    Chair,
    ClosedDay,
    OpeningHours,
    RoomKind,
    StaffAbsence,
    StaffLane,
    StaffShift,
    clinic_datetime,
)


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


def patient_busy(patient_id: int | None, day: dt.date, ignoring_id=None) -> tuple:
    """The patient's own visits that touch ``day``: they cannot be in two at once."""
    if patient_id is None:
        return ()
    start = clinic_datetime(day, dt.time(0))
    found = Appointment.objects.overlapping(start, start + dt.timedelta(days=1)).filter(
        patient_id=patient_id
    )
    if ignoring_id:
        found = found.exclude(pk=ignoring_id)
    return tuple(found.values_list("starts_at", "ends_at"))


def availability(
    day: dt.date,
    kind: AppointmentType,
    *,
    ignoring: Appointment | None = None,
    patient_id: int | None = None,
    not_before: dt.datetime | None = None,
) -> slots.Day:
    """The plain-data picture of ``day`` that ``slots`` needs to place a ``kind`` visit.

    With ``patient_id``, the patient's other visits are busy too; with ``not_before`` (now),
    automatic placement never proposes a time that has passed.
    """
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
        not_before=not_before,
        patient_busy=patient_busy(patient_id, day, ignoring.pk if ignoring else None),
    )


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


def still_free(resources, resource_id, start, end) -> int | None:
    resource = next((r for r in resources if r.id == resource_id), None)
    return resource_id if resource is not None and slots.usable(resource, start, end) else None


def with_taken(picture: slots.Day, taken: Sequence[slots.Placement]) -> slots.Day:
    """The day as it will be once earlier visits of the same course (same patient) are in."""
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
        patient_busy=picture.patient_busy + tuple((p.starts_at, p.ends_at) for p in taken),
    )
