from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply
from pydantic import AfterValidator

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient

from . import course_warnings, services
from .access import access_appointment
from .models import (
    MAX_ROW_ID,
    Appointment,
    AppointmentType,
    Status,
    calendar_date_problem,
    clinic_zone,
)

router = Router(tags=["scheduling"])


def on_calendar(value: dt.date | dt.datetime) -> dt.date | dt.datetime:
    """Year 1 or 9999 is an input error (422 naming the field), not a date to compute with."""
    problem = calendar_date_problem(value.date() if isinstance(value, dt.datetime) else value)
    if problem is not None:
        raise ValueError(problem)
    return value


CalendarDate = Annotated[dt.date, AfterValidator(on_calendar)]
CalendarMoment = Annotated[dt.datetime, AfterValidator(on_calendar)]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


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


class BookedVisitOut(AppointmentOut):
    warnings: list[str] = Field(
        default_factory=list,
        description="Why this visit may not be paid for (e.g. no approved prior "
        "authorization covering it). Warnings never block the booking.",
    )


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
    patient_id: RowId
    type: str = Field(description="Appointment type code, e.g. iv_infusion")
    starts_at: CalendarMoment = Field(description="ISO 8601; without an offset, clinic local time")
    chair_id: RowId | None = None
    staff_id: RowId | None = None
    override_reason: str = Field(
        "",
        max_length=500,
        description="A prescriber's reason to book a dosing visit without a matching plan",
    )


class MoveIn(Schema):
    starts_at: CalendarMoment
    chair_id: RowId | None = None
    staff_id: RowId | None = None


class StatusIn(Schema):
    status: Status
    reason: str = Field("", max_length=300)


class UndoCheckInIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class CourseVisitIn(Schema):
    number: int = Field(ge=1, le=60)
    date: CalendarDate
    starts_at: CalendarMoment | None = None
    chair_id: RowId | None = None
    staff_id: RowId | None = None


class CourseIn(Schema):
    type: str | None = Field(
        None, description="Appointment type code; default: the active plan's dosing visit"
    )
    visits: list[CourseVisitIn] | None = Field(
        None,
        min_length=1,
        max_length=60,
        description="Default: the active signed plan's planned sessions still to book",
    )
    override_reason: str = Field(
        "",
        max_length=500,
        description="A prescriber's reason to book without a plan or off the plan's dates",
    )


class DayQuery(Schema):
    date: CalendarDate
    staff_id: RowId | None = None
    chair_id: RowId | None = None


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
    found = list(found)
    # One row per request, naming whose visits were seen (as the calendar pages do).
    trail.record(
        action="appointment.list",
        request=request,
        detail={
            "date": str(day.date),
            "staff_id": day.staff_id,
            "chair_id": day.chair_id,
            "patients": sorted({a.patient_id for a in found}),
        },
    )
    return found


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
            override_reason=payload.override_reason,
        )
    except services.BookingConflict as conflict:
        return Reply(409, conflict_body(conflict))
    return Reply(201, appointment)


@router.get("/{int:appointment_id}", response=AppointmentOut)
def get_appointment(request, appointment_id: int):
    appointment = access_appointment(request, appointment_id, "appointment.view")
    trail.record(
        action="appointment.view",
        request=request,
        patient_id=appointment.patient_id,
        target=appointment,
        detail={"via": "api"},
    )
    return appointment


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


@router.post(
    "/{int:appointment_id}/undo-check-in",
    response=AppointmentOut,
    summary="Undo a check-in (back to scheduled or confirmed), with a reason",
)
def undo_check_in(request, appointment_id: int, payload: UndoCheckInIn):
    appointment = access_appointment(request, appointment_id, "appointment.status")
    if appointment.status != Status.CHECKED_IN:
        raise ValidationError({"status": "Only a checked-in visit can have its check-in undone."})
    services.appointment_transition(
        request=request,
        appointment=appointment,
        to=services.status_before_check_in(appointment) or Status.SCHEDULED,
        reason=payload.reason,
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
    response={201: list[BookedVisitOut], 409: UnplacedOut},
    summary="Book a whole course at once (all or nothing)",
)
def book_course(request, patient_id: int, payload: CourseIn):
    """Without ``visits``, the active signed plan's planned sessions (dates, count, type)."""
    if patient_id > MAX_ROW_ID:
        raise Http404
    patient = access_patient(request, patient_id, "appointment.book")
    items = course_items(patient, payload)
    # Before booking: the visits being booked must not count as already booked.
    found = course_warnings.course_warnings(patient, services.active_plan(patient), items)
    try:
        booked = services.course_book(
            request=request,
            patient=patient,
            items=items,
            override_reason=payload.override_reason,
        )
    except services.BookingConflict as conflict:
        return Reply(409, {"message": f"Nothing was booked: {conflict.message}", "unplaced": []})
    except services.CourseNotPlaceable as refusal:
        return Reply(
            409,
            {
                "message": f"Nothing was booked: {len(refusal.unplaced)} visit(s) could not be placed.",
                "unplaced": [dataclasses.asdict(u) for u in refusal.unplaced],
            },
        )
    for visit in booked:
        visit.warnings = course_warnings.for_visit(found, visit.course_number)
    return Reply(201, booked)


def course_items(patient, payload: CourseIn) -> list[services.CourseItem]:
    plan = services.active_plan(patient)
    if payload.visits is None:
        items = services.plan_items(plan) if plan is not None else []
        if not items:
            raise ValidationError(
                {
                    "visits": "No active signed plan has sessions left to book: "
                    "give the visits (a prescriber may book without a plan, with a reason)."
                }
            )
        if payload.type is None:
            return items
        kind = appointment_type(payload.type)
        return [dataclasses.replace(item, type=kind) for item in items]
    default = services.course_type_for(plan) if plan is not None else None
    if payload.type is None and default is None:
        raise ValidationError({"type": "Give the visit type: there is no active signed plan."})
    kind = appointment_type(payload.type) if payload.type is not None else default
    return [
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


@patients_router.get("/{int:patient_id}/appointments", response=list[AppointmentOut])
def patient_appointments(request, patient_id: int):
    if patient_id > MAX_ROW_ID:
        raise Http404
    patient = access_patient(request, patient_id, "appointment.view", section="api.appointments")
    return list(patient.appointments.select_related("type"))
