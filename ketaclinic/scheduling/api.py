from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply

from ketaclinic.accounts.access import require_permission
from ketaclinic.patients.access import access_patient

from . import services
from .models import Appointment, AppointmentType, Status, clinic_zone

router = Router(tags=["scheduling"])


class AppointmentOut(Schema):
    id: int
    patient_id: int
    type: str = Field(alias="type.code")
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: Status
    chair_id: int | None
    staff_id: int | None
    course_key: str
    course_number: int | None


class ConflictItem(Schema):
    appointment_id: int
    type: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    staff_id: int | None


class ConflictOut(Schema):
    message: str
    conflicts: list[ConflictItem]


class UnplacedItem(Schema):
    number: int
    date: dt.date
    reason: str


class UnplacedOut(Schema):
    message: str
    unplaced: list[UnplacedItem]


class BookIn(Schema):
    patient_id: int
    type: str = Field(description="Appointment type code, e.g. iv_infusion")
    starts_at: dt.datetime = Field(description="ISO 8601; without an offset, clinic local time")
    chair_id: int | None = None
    staff_id: int | None = None


class MoveIn(Schema):
    starts_at: dt.datetime
    chair_id: int | None = None
    staff_id: int | None = None


class StatusIn(Schema):
    status: Status
    reason: str = Field("", max_length=300)


class CourseVisitIn(Schema):
    number: int = Field(ge=1, le=60)
    date: dt.date
    starts_at: dt.datetime | None = None
    chair_id: int | None = None
    staff_id: int | None = None


class CourseIn(Schema):
    type: str
    visits: list[CourseVisitIn] = Field(min_length=1, max_length=60)


class DayQuery(Schema):
    date: dt.date
    staff_id: int | None = None
    chair_id: int | None = None


def aware(moment: dt.datetime) -> dt.datetime:
    """Times without an offset are the clinic's wall-clock time."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=clinic_zone())
    return moment


def appointment_type(code: str) -> AppointmentType:
    kind = AppointmentType.objects.filter(code=code).first()
    if kind is None:
        raise ValidationError({"type": f"Unknown appointment type '{code}'."})
    return kind


def access_appointment(request, appointment_id: int, permission: str) -> Appointment:
    appointment = Appointment.objects.select_related("type").filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    access_patient(request, appointment.patient_id, permission)
    return appointment


def conflict_body(conflict: services.BookingConflict) -> dict:
    return {
        "message": conflict.message,
        "conflicts": [
            {
                "appointment_id": c.pk,
                "type": c.type.code,
                "starts_at": c.starts_at,
                "ends_at": c.ends_at,
                "chair_id": c.chair_id,
                "staff_id": c.staff_id,
            }
            for c in conflict.conflicts
        ],
    }


@router.get("", response=list[AppointmentOut], summary="Appointments on a day")
def list_appointments(request, day: Query[DayQuery]):
    require_permission(request, "calendar.view")
    found = Appointment.objects.on_day(day.date).select_related("type")
    if day.staff_id:
        found = found.filter(staff_id=day.staff_id)
    if day.chair_id:
        found = found.filter(chair_id=day.chair_id)
    return list(found)


@router.post("", response={201: AppointmentOut, 409: ConflictOut}, summary="Book one visit")
def book(request, payload: BookIn):
    patient = access_patient(request, payload.patient_id, "appointment.book")
    try:
        appointment = services.appointment_book(
            request=request,
            patient=patient,
            kind=appointment_type(payload.type),
            starts_at=aware(payload.starts_at),
            chair_id=payload.chair_id,
            staff_id=payload.staff_id,
        )
    except services.BookingConflict as conflict:
        return Reply(409, conflict_body(conflict))
    return Reply(201, appointment)


@router.get("/{int:appointment_id}", response=AppointmentOut)
def get_appointment(request, appointment_id: int):
    return access_appointment(request, appointment_id, "appointment.view")


@router.post("/{int:appointment_id}/move", response={200: AppointmentOut, 409: ConflictOut})
def move(request, appointment_id: int, payload: MoveIn):
    appointment = access_appointment(request, appointment_id, "appointment.book")
    try:
        services.appointment_move(
            request=request,
            appointment=appointment,
            starts_at=aware(payload.starts_at),
            chair_id=payload.chair_id,
            staff_id=payload.staff_id,
        )
    except services.BookingConflict as conflict:
        return Reply(409, conflict_body(conflict))
    return Reply(200, appointment)


@router.post("/{int:appointment_id}/status", response=AppointmentOut)
def change_status(request, appointment_id: int, payload: StatusIn):
    appointment = access_appointment(request, appointment_id, "appointment.status")
    services.appointment_transition(
        request=request, appointment=appointment, to=payload.status, reason=payload.reason
    )
    return appointment


@router.post("/{int:appointment_id}/cancel", response=AppointmentOut)
def cancel(request, appointment_id: int, payload: StatusIn | None = None):
    appointment = access_appointment(request, appointment_id, "appointment.book")
    services.appointment_transition(
        request=request,
        appointment=appointment,
        to=Status.CANCELLED,
        reason=payload.reason if payload else "",
    )
    return appointment


patients_router = Router(tags=["scheduling"])


@patients_router.post(
    "/{int:patient_id}/courses",
    response={201: list[AppointmentOut], 409: UnplacedOut},
    summary="Book a whole course at once (all or nothing)",
)
def book_course(request, patient_id: int, payload: CourseIn):
    patient = access_patient(request, patient_id, "appointment.book")
    kind = appointment_type(payload.type)
    items = [
        services.CourseItem(
            number=visit.number,
            date=visit.date,
            type=kind,
            starts_at=aware(visit.starts_at) if visit.starts_at else None,
            chair_id=visit.chair_id,
            staff_id=visit.staff_id,
        )
        for visit in payload.visits
    ]
    try:
        booked = services.course_book(request=request, patient=patient, items=items)
    except services.CourseNotPlaceable as refusal:
        return Reply(
            409,
            {
                "message": f"Nothing was booked: {len(refusal.unplaced)} visit(s) could not be placed.",
                "unplaced": [dataclasses.asdict(u) for u in refusal.unplaced],
            },
        )
    return Reply(201, booked)


@patients_router.get("/{int:patient_id}/appointments", response=list[AppointmentOut])
def patient_appointments(request, patient_id: int):
    patient = access_patient(request, patient_id, "appointment.view", section="api.appointments")
    return list(patient.appointments.select_related("type"))
