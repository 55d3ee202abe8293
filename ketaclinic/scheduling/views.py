"""Calendar pages (the day by chair, a staff member's week), an appointment's page and history,
and booking a visit or a whole course."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import CLINICIANS, STAFF
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.patients.access import access_patient

from . import calendar, course_warnings, history, seed, services
from .access import access_appointment
from .forms import BookingForm, CourseForm, MoveForm
from .models import (
    MAX_ROW_ID,
    MOVABLE,
    TRANSITIONS,
    UNDO_CHECK_IN,
    Appointment,
    AppointmentType,
    Chair,
    OpeningHours,
    Status,
    calendar_date_problem,
    clinic_datetime,
)

# A calendar page shows a week around its day; keep that week inside the calendar too.
PAGE_MARGIN = dt.timedelta(days=14)


def day_from(request, key: str = "date") -> dt.date:
    """The day asked for; no such page for a date far off the clinic's calendar (404)."""
    try:
        day = dt.date.fromisoformat(request.GET.get(key, ""))
    except ValueError:
        return timezone.localdate()
    if calendar_date_problem(day) is not None:
        raise Http404("That date is outside the clinic's calendar.")
    return day


def row_id(value: int) -> int:
    """A path id larger than any row names nothing: 404, not an overflow."""
    if value > MAX_ROW_ID:
        raise Http404
    return value


def is_prescriber(request) -> bool:
    return request.user.role == Role.PRESCRIBER


def step() -> int:
    return seed.policy_value("slot_step_minutes")


def local_times(appointment: Appointment) -> tuple[dt.time, dt.time]:
    return appointment.local_start.time(), appointment.local_end.time()


@login_required
def day_view(request):
    """One column per chair; visits without a chair (consults) under their staff member."""
    require_permission(request, "calendar.view")
    day = day_from(request)
    hours = OpeningHours.objects.filter(weekday=day.weekday()).first()
    grid = calendar.grid_for([(hours.opens_at, hours.closes_at)] if hours else [], step())
    visits = list(
        Appointment.objects.on_day(day)
        .holding()
        .select_related("type", "patient", "staff", "chair__room")
    )
    chairs = list(Chair.objects.filter(active=True).select_related("room"))
    columns = [
        column_of(grid, str(chair), [v for v in visits if v.chair_id == chair.pk])
        for chair in chairs
    ]
    consults = [v for v in visits if v.chair_id is None]
    for person in sorted({v.staff for v in consults if v.staff}, key=lambda u: u.display_name):
        columns.append(
            column_of(grid, person.display_name, [v for v in consults if v.staff == person])
        )
    trail.record(action="calendar.day", request=request, detail={"date": str(day)})
    return render(
        request,
        "scheduling/day.html",
        {
            "day": day,
            "grid": grid,
            "columns": columns,
            "column_widths": calendar.column_widths(columns),
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "closed": hours is None,
            "staff": staff_members(),
        },
    )


def column_of(grid, title, visits) -> calendar.Column:
    """A timeline column of visits, placed by their clinic-local times."""
    placed = calendar.blocks(grid, visits, lambda v: local_times(v)[0], lambda v: local_times(v)[1])
    return calendar.Column(title, placed)


def staff_members():
    return User.objects.filter(role__in=CLINICIANS, is_active=True).order_by("role", "last_name")


@login_required
def week_view(request, user_id: int):
    """One staff member's week: a column per day."""
    require_permission(request, "calendar.view")
    person = User.objects.filter(pk=row_id(user_id), role__in=STAFF).first()
    if person is None:
        raise Http404
    monday = day_from(request, "week")
    monday -= dt.timedelta(days=monday.weekday())
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    start, end = clinic_datetime(monday, dt.time(0)), clinic_datetime(days[-1], dt.time(23, 59))
    visits = list(
        Appointment.objects.holding()
        .filter(staff=person, starts_at__gte=start, starts_at__lte=end)
        .select_related("type", "patient", "chair__room")
    )
    opening = [(h.opens_at, h.closes_at) for h in OpeningHours.objects.all()]
    grid = calendar.grid_for(opening, step())
    columns = [
        column_of(grid, day, [v for v in visits if v.local_start.date() == day]) for day in days
    ]
    trail.record(
        action="calendar.week", request=request, detail={"staff": person.pk, "week": str(monday)}
    )
    return render(
        request,
        "scheduling/week.html",
        {
            "person": person,
            "grid": grid,
            "columns": columns,
            "column_widths": calendar.column_widths(columns),
            "monday": monday,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "staff": staff_members(),
        },
    )


@login_required
def book(request, patient_id: int):
    patient = access_patient(request, row_id(patient_id), "appointment.book")
    initial = request.GET.dict()
    if (code := initial.get("type")) and not code.isdigit():
        # Links from other pages name the visit type by code (?type=consultation).
        found = AppointmentType.objects.filter(code=code).values_list("pk", flat=True).first()
        initial["type"] = found or ""
    form = BookingForm(
        request.POST or None,
        initial=initial,
        patient=patient,
        prescriber=is_prescriber(request),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                request=request,
                patient=patient,
                kind=data["type"],
                starts_at=form.starts_at(),
                chair_id=data["chair"].pk if data["chair"] else None,
                staff_id=data["staff"].pk if data["staff"] else None,
                override_reason=data.get("override_reason", ""),
            )
        except services.BookingConflict as conflict:
            form.add_error(None, conflict.message)
        except ValidationError as problem:
            add_errors(form, problem)
        else:
            messages.success(request, f"Booked {appointment} for {patient.full_name}.")
            return redirect("scheduling:appointment", appointment_id=appointment.pk)
    return render(
        request,
        "scheduling/book.html",
        {"form": form, "patient": patient},
        status=422 if form.errors else 200,
    )


def add_errors(form, problem: ValidationError) -> None:
    """A service's refusal shown beside the field it names (or above the form)."""
    for field, messages_ in problem.message_dict.items():
        if field == "starts_at":
            field = "date"
        form.add_error(field if field in form.fields else None, messages_)


@login_required
def appointment_detail(request, appointment_id: int):
    appointment = access_appointment(request, appointment_id, "appointment.view")
    trail.record(
        action="appointment.view",
        request=request,
        patient_id=appointment.patient_id,
        target=appointment,
    )
    local = appointment.local_start
    form = MoveForm(
        initial={"date": local.date(), "time": local.time(), "chair": appointment.chair_id}
    )
    return render(
        request,
        "scheduling/appointment.html",
        {
            "appointment": appointment,
            "move_form": form,
            "next_statuses": next_statuses(appointment),
            "undo_check_in": undo_target(appointment),
            "movable": appointment.status in MOVABLE,
            "history": history.history_lines(appointment.events.select_related("by")),
        },
    )


def next_statuses(appointment: Appointment) -> list[Status]:
    """Buttons for the next steps; undoing a check-in has its own form (it needs a reason)."""
    targets = TRANSITIONS[appointment.status]
    if appointment.status == Status.CHECKED_IN:
        targets = targets - set(UNDO_CHECK_IN)
    return [Status(s) for s in sorted(targets)]


def undo_target(appointment: Appointment) -> Status | None:
    if appointment.status != Status.CHECKED_IN:
        return None
    return Status(services.status_before_check_in(appointment) or Status.SCHEDULED)


@login_required
@require_POST
def move(request, appointment_id: int):
    appointment = access_appointment(request, appointment_id, "appointment.book")
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_move(
                request=request,
                appointment=appointment,
                starts_at=form.starts_at(),
                chair_id=form.cleaned_data["chair"].pk if form.cleaned_data["chair"] else None,
                staff_id=form.cleaned_data["staff"].pk if form.cleaned_data["staff"] else None,
            )
        except (services.BookingConflict, ValidationError) as problem:
            messages.error(
                request, getattr(problem, "message", None) or "; ".join(problem.messages)
            )
        else:
            messages.success(request, f"Moved to {appointment.local_start:%a %d %b %H:%M}.")
    else:
        messages.error(request, "Give a valid date and time to move to.")
    return back_to(request, appointment)


@login_required
@require_POST
def change_status(request, appointment_id: int):
    appointment = access_appointment(request, appointment_id, "appointment.status")
    try:
        services.appointment_transition(
            request=request,
            appointment=appointment,
            to=request.POST.get("status", ""),
            reason=request.POST.get("reason", "")[:300],
        )
    except ValidationError as problem:
        messages.error(request, "; ".join(problem.messages))
    else:
        messages.success(request, f"Now {appointment.get_status_display().lower()}.")
    return back_to(request, appointment)


def back_to(request, appointment: Appointment) -> HttpResponse:
    url = reverse("scheduling:appointment", kwargs={"appointment_id": appointment.pk})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


@login_required
def book_course(request, patient_id: int):
    """Preview a course's placements, let the desk adjust any, then book all at once."""
    patient = access_patient(request, row_id(patient_id), "appointment.book")
    plan = plan_of(patient, request.GET.get("plan") or request.POST.get("plan"))
    plan = plan or services.active_plan(patient)
    initial = request.GET.dict() | (course_initial(plan) if plan else {})
    form = CourseForm(request.POST or None, initial=initial, prescriber=is_prescriber(request))
    preview, unplaced, warnings = [], [], []
    if request.method == "POST" and form.is_valid():
        items = form.items(plan)
        # Later apps' warnings (billing: prior authorization); they never block a booking.
        warnings = course_warnings.course_warnings(patient, plan, items)
        if "confirm" in request.POST:
            try:
                booked = services.course_book(
                    request=request,
                    patient=patient,
                    items=items,
                    override_reason=form.cleaned_data.get("override_reason", ""),
                )
            except services.CourseNotPlaceable as refusal:
                unplaced = refusal.unplaced
            except services.BookingConflict as conflict:
                form.add_error(None, conflict.message)
            except ValidationError as problem:
                add_errors(form, problem)
            else:
                messages.success(request, f"Booked all {len(booked)} visits of the course.")
                for warning in warnings:
                    messages.warning(request, warning.message)
                return redirect(
                    "scheduling:course", patient_id=patient.pk, course_key=booked[0].course_key
                )
        planned = services.course_plan(items, patient=patient)
        preview = [(item, result) for item, result in planned]
        unplaced = unplaced or [r for _, r in planned if isinstance(r, services.Unplaced)]
    return render(
        request,
        "scheduling/course_form.html",
        {
            "form": form,
            "patient": patient,
            "preview": preview,
            "unplaced": unplaced,
            "chairs": Chair.objects.filter(active=True).select_related("room"),
            "plan": plan,
            "course_warnings": warnings,
        },
        status=422 if form.errors else 200,
    )


def plan_of(patient, plan_id):
    """The patient's signed plan whose proposed course is being booked, if one was named."""
    if not plan_id or not str(plan_id).isdigit():
        return None
    plan = patient.plans.filter(pk=int(plan_id), signed_at__isnull=False).first()
    if plan is None:
        raise Http404
    return plan


def course_initial(plan) -> dict:
    """The plan's planned sessions still to book, and the visit type matching its protocol."""
    kind = services.course_type_for(plan)
    dates = [str(item.date) for item in services.plan_items(plan)]
    return {"dates": "\n".join(dates), "type": kind.pk if kind else None, "plan": plan.pk}


@login_required
def course(request, patient_id: int, course_key: str):
    """Planned vs booked vs done for one course."""
    patient = access_patient(request, row_id(patient_id), "appointment.view", section="course")
    visits = list(
        patient.appointments.filter(course_key=course_key)
        .select_related("type", "staff", "chair__room")
        .order_by("course_number", "starts_at")
    )
    planned = planned_sessions_of(patient, course_key)
    if not visits and not planned:
        raise Http404
    rows = course_rows(planned, visits)
    counts = {
        "booked": sum(v.status in (Status.SCHEDULED, Status.CONFIRMED) for v in visits),
        "done": sum(v.status == Status.COMPLETED for v in visits),
        "cancelled": sum(v.status in (Status.CANCELLED, Status.NO_SHOW) for v in visits),
    }
    return render(
        request,
        "scheduling/course.html",
        {
            "patient": patient,
            "visits": visits,
            "rows": rows,
            "planned": planned,
            "course_key": course_key,
            "counts": counts,
        },
    )


def planned_sessions_of(patient, course_key: str) -> list:
    """The plan's proposed sessions when the course was booked from a plan."""
    if not course_key.startswith("plan-") or not course_key[5:].isdigit():
        return []
    plan = patient.plans.filter(pk=int(course_key[5:])).first()
    return list(plan.planned_sessions.order_by("number")) if plan else []


def course_rows(planned, visits) -> list[tuple]:
    """One row per session number: what was planned beside what was booked (or done)."""
    by_number: dict[int, list[Appointment]] = {}
    for visit in visits:
        by_number.setdefault(visit.course_number or 0, []).append(visit)
    numbers = sorted({p.number for p in planned} | set(by_number))
    planned_by_number = {p.number: p for p in planned}
    return [(n, planned_by_number.get(n), by_number.get(n, [])) for n in numbers]
