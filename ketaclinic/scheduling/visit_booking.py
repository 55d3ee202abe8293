"""Booking one visit: the time and plan rules, a free chair and staff lane at that time, then
one insert with its booking event and audit row. An overlap the database refuses under
concurrency becomes a ``BookingConflict`` naming what is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit import trail

from . import slots
from .availability import availability, fill_in, only_staff
from .conflicts import (
    BookingConflict,
    conflicts_for,
    is_overlap,
    refuse_overlap,
    refuse_patient_clash,
)
from .models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    StaffLane,
)
from .plan_rules import plan_overrides
from .time_rules import refuse_off_calendar, refuse_past


def appointment_book(
    *,
    request,
    patient,
    kind: AppointmentType,
    starts_at: dt.datetime,
    chair_id: int | None = None,
    staff_id: int | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book one visit. Without chair or staff, the first free ones at that time are used.

    Contract (the demo clinic calls it too): keyword-only ``request, patient, kind,
    starts_at, chair_id=None, staff_id=None, override_reason="", now=None``. ``now`` is the
    moment the action is taken (default ``timezone.now()``); the past rule is judged
    against it. Refuses (422) a date off the calendar or in the past, a dosing visit without
    a matching active signed plan (unless a prescriber gives ``override_reason``); answers
    409 when the patient, chair or staff member is already taken.
    """
    now = now or timezone.now()
    refuse_off_calendar(starts_at.date())
    refuse_past(starts_at, now)
    overrides = plan_overrides(request, patient, kind, override_reason, "appointment.book")
    ends_at = starts_at + dt.timedelta(minutes=kind.minutes)
    refuse_patient_clash(patient.pk, starts_at, ends_at)
    picture = availability(timezone.localdate(starts_at), kind, patient_id=patient.pk)
    picture = only_staff(picture, staff_id)
    chair_id, lane_id = fill_in(picture, starts_at, chair_id, None)
    reason = slots.check_placement(picture, starts_at, chair_id, lane_id)
    if reason is not None:
        # Another request may have booked the patient since the first check: name that visit.
        refuse_patient_clash(patient.pk, starts_at, ends_at)
        raise BookingConflict(
            f"Cannot book {kind.name} at {starts_at:%Y-%m-%d %H:%M}: {reason}.",
            conflicts_for(starts_at, ends_at, chair_id, lane_id),
        )
    appointment = Appointment(
        patient=patient,
        type=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        chair_id=chair_id,
        lane_id=lane_id,
        staff=lane_user(lane_id),
        created_by=request.user,
        created_at=now,
    )
    insert(request, appointment, overrides=overrides, now=now)
    return appointment


def lane_user(lane_id: int) -> User:
    return StaffLane.objects.select_related("user").get(pk=lane_id).user


def insert(request, appointment: Appointment, *, overrides: Sequence[dict] = (), now=None) -> None:
    detail = placement_detail(appointment)
    if overrides:
        detail["overrides"] = list(overrides)
    try:
        with transaction.atomic():
            appointment.save(force_insert=True)
            AppointmentEvent.objects.create(
                appointment=appointment,
                at=now or timezone.now(),
                by=request.user,
                kind="booked",
                to_status=appointment.status,
                detail=detail,
            )
            trail.record(
                action="appointment.book",
                request=request,
                patient_id=appointment.patient_id,
                target=appointment,
                detail=detail,
            )
    except (IntegrityError, OperationalError) as error:
        if not is_overlap(error):
            raise
        raise refuse_overlap(appointment) from error


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
