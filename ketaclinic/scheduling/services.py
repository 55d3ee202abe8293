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
from ketaclinic.audit.models import Outcome
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.protocols.models import Protocol

from . import holds, seed, slots
from .models import (
    UNDO_CHECK_IN,
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
    calendar_date_problem,
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


# ---------------------------------------------------------------- time rules


def refuse_off_calendar(day: dt.date, field: str = "starts_at") -> None:
    problem = calendar_date_problem(day)
    if problem is not None:
        raise ValidationError({field: problem})


def refuse_past(starts_at: dt.datetime, now: dt.datetime, field: str = "starts_at") -> None:
    """No visit is booked or moved to a time that has already passed."""
    if starts_at < now:
        local = timezone.localtime(starts_at)
        raise ValidationError(
            {field: f"{local:%a %d %b %Y %H:%M} has already passed: choose a time from now on."}
        )


def refuse_check_in_on_another_day(appointment: Appointment, now: dt.datetime) -> None:
    """A patient is checked in on the visit's own day (clinic time), not before or after."""
    visit_day, today = timezone.localdate(appointment.starts_at), timezone.localdate(now)
    if visit_day != today:
        raise ValidationError(
            {
                "status": f"Check-in is only possible on the visit's own day "
                f"({visit_day:%a %d %b %Y}); today is {today:%a %d %b %Y}."
            }
        )


# ---------------------------------------------------------------- plan rules

# How the rules name a route's dosing visits to the front desk.
ROUTE_WORDS = {
    "iv": ("IV ketamine", "infusions"),
    "im": ("IM ketamine", "injections"),
    "esketamine": ("esketamine", "esketamine sessions"),
}


def active_plan(patient) -> TreatmentPlan | None:
    """The patient's active signed plan (the database allows at most one)."""
    return (
        TreatmentPlan.objects.filter(
            patient=patient, status=PlanStatus.ACTIVE, signed_at__isnull=False
        )
        .select_related("protocol")
        .first()
    )


def route_of(kind: AppointmentType) -> str:
    protocol = Protocol.objects.filter(code=kind.protocol_code).only("route").first()
    return protocol.route if protocol else ""


def plan_gap(patient, kind: AppointmentType) -> tuple[TreatmentPlan | None, str]:
    """The active plan behind a dosing visit, and what is missing when it does not cover it.

    Consultations, therapy and follow-ups (no protocol) need no plan.
    """
    if not kind.is_treatment:
        return None, ""
    plan, route = active_plan(patient), route_of(kind)
    label, noun = ROUTE_WORDS.get(route, (kind.name, f"{kind.name} visits"))
    if plan is None:
        return (
            None,
            f"No active signed treatment plan for {label}: sign a plan before booking {noun}.",
        )
    if route and plan.route != route:
        return plan, (
            f"The active signed plan is for {plan.get_route_display()} ({plan.protocol.name}), "
            f"not {label}: sign a {label} plan before booking {noun}."
        )
    return plan, ""


def override_or_refuse(
    request, patient, *, rule: str, missing: str, override_reason: str, action: str
) -> dict:
    """A prescriber may book past a plan rule with a reason; anyone else is refused (422).

    The refusal is audited; the override, returned here, goes on the event and audit row.
    """
    reason = (override_reason or "").strip()
    prescriber = request.user.role == Role.PRESCRIBER
    if reason and prescriber:
        return {"rule": rule, "missing": missing, "reason": reason[:500]}
    field, message = (
        ("override_reason", f"Only a prescriber may override this: {missing}")
        if reason
        else (rule, f"{missing} (A prescriber may override with a reason.)")
    )
    trail.record(
        action=action,
        request=request,
        patient=patient,
        outcome=Outcome.REFUSED,
        detail={"rule": rule, "missing": missing, "override_by_non_prescriber": bool(reason)},
    )
    raise ValidationError({field: message})


def plan_overrides(request, patient, kind, override_reason: str, action: str) -> list[dict]:
    _, missing = plan_gap(patient, kind)
    if not missing:
        return []
    return [
        override_or_refuse(
            request,
            patient,
            rule="plan",
            missing=missing,
            override_reason=override_reason,
            action=action,
        )
    ]


def course_type_for(plan: TreatmentPlan) -> AppointmentType | None:
    """The dosing visit that matches a plan: its protocol's type, else one of its route."""
    exact = AppointmentType.objects.filter(protocol_code=plan.protocol.code).first()
    if exact is not None:
        return exact
    for kind in AppointmentType.objects.exclude(protocol_code=""):
        if route_of(kind) == plan.route:
            return kind
    return None


def plan_items(plan: TreatmentPlan, *, now: dt.datetime | None = None) -> list[CourseItem]:
    """The plan's planned sessions still to book: not past, not already booked from it."""
    kind = course_type_for(plan)
    if kind is None:
        return []
    today = timezone.localdate(now or timezone.now())
    booked = set(
        Appointment.objects.holding()
        .filter(patient_id=plan.patient_id, course_key=plan_course_key(plan))
        .values_list("course_number", flat=True)
    )
    return [
        CourseItem(number=session.number, date=session.date, type=kind)
        for session in plan.planned_sessions.order_by("number")
        if session.date >= today and session.number not in booked
    ]


def plan_course_key(plan: TreatmentPlan) -> str:
    return f"plan-{plan.pk}"


def off_plan(plan: TreatmentPlan | None, items: Sequence[CourseItem]) -> list[str]:
    """Visits whose number and date are not one of the plan's planned sessions."""
    if plan is None:
        return []
    planned = dict(plan.planned_sessions.values_list("number", "date"))
    off = []
    for item in items:
        if planned.get(item.number) == item.date:
            continue
        where = (
            f"the plan has it on {planned[item.number]:%a %d %b %Y}"
            if item.number in planned
            else "the plan has no such session"
        )
        off.append(f"visit {item.number} on {item.date:%a %d %b %Y} ({where})")
    return off


def course_overrides(request, patient, items, override_reason: str) -> tuple:
    """The plan a dosing course is booked from, and any prescriber overrides it needed."""
    kinds = {item.type.pk: item.type for item in items if item.type.is_treatment}
    if not kinds:
        return None, []
    overrides = []
    for kind in kinds.values():
        overrides += plan_overrides(request, patient, kind, override_reason, "course.book")
    plan = active_plan(patient)
    off = off_plan(plan, items)
    if off:
        missing = (
            "These dates are not the signed plan's planned sessions: "
            + "; ".join(off)
            + ". Book the plan's dates"
        )
        overrides.append(
            override_or_refuse(
                request,
                patient,
                rule="visits",
                missing=missing + ".",
                override_reason=override_reason,
                action="course.book",
            )
        )
    return plan, overrides


# ---------------------------------------------------------------- conflicts


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
    picture = availability(
        timezone.localdate(starts_at),
        appointment.type,
        ignoring=appointment,
        patient_id=appointment.patient_id,
    )
    picture = only_staff(picture, staff_id)
    # Keep the same chair and staff member when they are free at the new time.
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
    except (IntegrityError, OperationalError) as error:
        if not is_overlap(error):
            raise
        # The object still holds the new place: name what is there, then forget it.
        conflict = refuse_overlap(appointment)
        appointment.refresh_from_db()
        raise conflict from error
    return appointment


def still_free(resources, resource_id, start, end) -> int | None:
    resource = next((r for r in resources if r.id == resource_id), None)
    return resource_id if resource is not None and slots.usable(resource, start, end) else None


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
