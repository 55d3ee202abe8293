"""What is in the way of a booking: a visit on the same chair, staff lane or of the same patient
at an overlapping time, named so the desk knows what to move (``BookingConflict``, HTTP 409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q
from django.utils import timezone

from .models import (
    Appointment,
)


class BookingConflict(Exception):
    """The slot is taken; ``conflicts`` are the appointments in the way (may be empty)."""

    def __init__(self, message: str, conflicts: Sequence[Appointment] = ()):
        super().__init__(message)
        self.message = message
        self.conflicts = list(conflicts)


def conflicts_for(
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    chair_id,
    lane_id,
    ignoring_id=None,
    patient_id=None,
) -> list[Appointment]:
    """Active visits in the way: on the same chair, staff lane or of the same patient."""
    by_resource = Q(pk__in=[])
    if chair_id:
        by_resource |= Q(chair_id=chair_id)
    if lane_id:
        by_resource |= Q(lane_id=lane_id)
    if patient_id:
        by_resource |= Q(patient_id=patient_id)
    found = Appointment.objects.overlapping(starts_at, ends_at).filter(by_resource)
    if ignoring_id:
        found = found.exclude(pk=ignoring_id)
    return list(found.select_related("type", "chair__room", "staff", "patient"))


def patient_clashes(patient_id, starts_at, ends_at, ignoring_id=None) -> list[Appointment]:
    found = Appointment.objects.overlapping(starts_at, ends_at).filter(patient_id=patient_id)
    if ignoring_id:
        found = found.exclude(pk=ignoring_id)
    return list(found.select_related("type", "chair__room", "staff", "patient"))


def clash_message(other: Appointment) -> str:
    """'<patient> already has <type> at <time> in <chair>': what the desk must move."""
    where = f"in {other.chair}" if other.chair_id else ""
    if not where and other.staff_id:
        where = f"with {other.staff.display_name}"
    local = timezone.localtime(other.starts_at)
    return (
        f"{other.patient.full_name} already has {other.type.name} at "
        f"{local:%a %d %b %Y %H:%M} {where}".rstrip()
        + "."
    )


def refuse_patient_clash(patient_id, starts_at, ends_at, ignoring_id=None) -> None:
    clashes = patient_clashes(patient_id, starts_at, ends_at, ignoring_id)
    if clashes:
        raise BookingConflict(clash_message(clashes[0]), clashes)


def refuse_overlap(appointment: Appointment) -> BookingConflict:
    """Turn a database refusal into a 409 that names what is in the way."""
    clashes = patient_clashes(
        appointment.patient_id, appointment.starts_at, appointment.ends_at, appointment.pk
    )
    if clashes:
        return BookingConflict(clash_message(clashes[0]), clashes)
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


def is_overlap(error: Exception) -> bool:
    return "no_overlap" in str(error)
