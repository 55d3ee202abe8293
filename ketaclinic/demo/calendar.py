"""The demo clinic's calendar: staff shifts, induction courses booked from signed plans, and a
busy month of consultations, integration sessions and follow-ups around today.

A treatment visit is only ever booked from a signed plan, the way the front desk does it:
"Book this course" on the plan's planned sessions, at the moment after the plan was signed
(``demo/desk.py`` replays every desk action with its own ``now``). Patients without a plan
get consultations and follow-ups, which need none. Every visit is placed with the desk's
slot finder and booked through the scheduling services, so the demo never shows what the
real system would refuse: no chair, staff member or patient is ever in two visits at once.
Loaded once: an audit row marks the calendar as loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.demo import desk
from ketaclinic.demo import plans as demo_plans
from ketaclinic.patients.models import Patient
from ketaclinic.plans import schedule
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.scheduling import seed, services, slots
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    OpeningHours,
    StaffShift,
    Status,
    clinic_datetime,
)
from ketaclinic.screening import services as screening_services

SEED = 4
MARKER = "demo.load_calendar"
COURSES_MARKER = "demo.load_courses"
# Weekday shifts (clinic local time) of the demo staff.
SHIFTS = {
    "prescriber": (dt.time(8), dt.time(18)),
    "prescriber2": (dt.time(8), dt.time(14)),
    "nurse": (dt.time(8), dt.time(16)),
    "nurse2": (dt.time(10), dt.time(18)),
    "therapist": (dt.time(9), dt.time(17)),
}
# First day of each further induction course, in days from today: a few under way (their
# past sessions are charted), most starting over the next two weeks.
COURSE_STARTS = (-6, -4, -3, -1, 0, 1, 2, 3, 4, 7, 8, 9, 10, 11)
# Days between signing a plan and its first infusion.
SIGNED_BEFORE = (2, 3, 4)
OLDEST_SIGNATURE_DAYS = 8  # the scenario's active plan (ten days old) stays the oldest


def prepare(users: dict[str, User]) -> None:
    """Visit types, opening hours, and weekday shifts for every clinician."""
    seed.seed(AppointmentType, OpeningHours)
    for username, (starts, ends) in SHIFTS.items():
        user = users[username]
        for weekday in range(5):
            StaffShift.objects.get_or_create(
                user=user, weekday=weekday, defaults={"starts_at": starts, "ends_at": ends}
            )
        services.ensure_lanes(user)


def working_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


# --- induction courses from signed plans -----------------------------------------------------


def _reserved_for_sessions(candidates: list[Patient]) -> list[Patient | None]:
    """Kept for demo/sessions.py: its IM patient, then its esketamine patient."""
    im = next(
        (p for p in candidates if demo_plans.fits_iv_any(p, screening_services.record_snapshot(p))),
        None,
    )
    esketamine = next(
        (
            p
            for p in candidates
            if p is not im
            and demo_plans.fits_esketamine_trd(p, screening_services.record_snapshot(p))
        ),
        None,
    )
    return [im, esketamine]


def plan_courses(users: dict[str, User]) -> list[TreatmentPlan]:
    """Signed IV plans for demo patients still without a screening, each course placeable.

    Patients DEMO0001-DEMO0010 stay unscreened (people screen them in the demo), as do the
    two kept for the IM and esketamine courses of ``demo/sessions.py``. Returns the plans made (none on a rerun).
    """
    if AuditEvent.objects.filter(action=COURSES_MARKER).exists():
        return []
    candidates = [
        p
        for p in Patient.objects.filter(mrn__startswith="DEMO")
        .exclude(mrn__lt=f"DEMO{demo_plans.FIRST_CANDIDATE:04d}")
        .order_by("mrn")
        if not p.screenings.exists()
    ]
    fitting = [
        p for p in candidates if demo_plans.fits_iv_course(p, screening_services.record_snapshot(p))
    ]
    reserved = _reserved_for_sessions(candidates)
    rng = random.Random(SEED)
    today = timezone.localdate()
    kind = AppointmentType.objects.get(code="iv_infusion")
    made = []
    chosen = [p for p in fitting if p not in reserved]
    for patient, offset in zip(chosen, COURSE_STARTS, strict=False):
        placed = first_placeable_start(
            patient, working_day(today + dt.timedelta(days=offset)), kind, rng
        )
        if placed is None:
            continue
        start, signed_at = placed
        made.append(
            demo_plans._historic_iv_plan(
                patient,
                users,
                days_ago=(today - timezone.localdate(signed_at)).days,
                status=PlanStatus.ACTIVE,
                start=start,
                signed_at=signed_at,
            )
        )
    trail.record(
        action=COURSES_MARKER,
        actor_username="demo",
        detail={"plans": [p.patient.mrn for p in made]},
    )
    return made


def signing_moment(start: dt.date, rng: random.Random) -> dt.datetime:
    """A few days before the first infusion, never in the future, never too long ago."""
    today = timezone.localdate()
    signed_on = max(
        start - dt.timedelta(days=rng.choice(SIGNED_BEFORE)),
        today - dt.timedelta(days=OLDEST_SIGNATURE_DAYS),
    )
    signed_at = clinic_datetime(signed_on, dt.time(rng.choice([11, 15, 16]), 30))
    return min(signed_at, timezone.now() - dt.timedelta(hours=2))


def first_placeable_start(
    patient, start: dt.date, kind: AppointmentType, rng: random.Random
) -> tuple[dt.date, dt.datetime] | None:
    """The first working day from ``start`` on which the whole induction course has room,
    seen from the hour after signing; with that signing moment."""
    for _ in range(5):
        signed_at = signing_moment(start, rng)
        course = schedule.propose_schedule(
            "iv_induction", start_date=start, working_weekdays=demo_plans.WEEKDAYS
        )
        items = [services.CourseItem(number=s.number, date=s.date, type=kind) for s in course]
        if desk.placeable(items, patient, now=signed_at + dt.timedelta(hours=1)):
            return start, signed_at
        start = working_day(start + dt.timedelta(days=1))
    return None


# --- consultations, integration sessions and follow-ups ---------------------------------------


def load(users: dict[str, User]) -> int:
    """The visits that need no plan, around today; returns how many were booked."""
    if AuditEvent.objects.filter(action=MARKER).exists():
        return 0
    rng = random.Random(SEED)
    today = timezone.localdate()
    kinds = {kind.code: kind for kind in AppointmentType.objects.all()}
    booked = 0
    for patient in Patient.objects.filter(mrn__startswith="DEMO").order_by("mrn"):
        plan = (
            patient.plans.filter(status__in=[PlanStatus.ACTIVE, PlanStatus.COMPLETED])
            .order_by("-signed_at")
            .first()
        )
        if plan is None:
            day = working_day(today + dt.timedelta(days=rng.randint(-10, 14)))
            booked += visit(patient, kinds["consultation"], day, users, rng, today)
            continue
        first = plan.planned_sessions.order_by("number").first()
        first_day = first.date if first else plan.start_date
        booked += visit(
            patient,
            kinds["integration_therapy"],
            working_day(first_day + dt.timedelta(days=1)),
            users,
            rng,
            today,
        )
        last = plan.planned_sessions.order_by("-number").first()
        if last is not None:
            booked += visit(
                patient,
                kinds["follow_up"],
                working_day(last.date + dt.timedelta(days=14)),
                users,
                rng,
                today,
            )
    trail.record(action=MARKER, actor_username="demo", detail={"visits": booked})
    return booked


def visit(patient, kind, day, users, rng, today) -> int:
    """Book one visit where the clinic and the patient are free, then play out its day."""
    found = free_slot(patient, kind, day, rng)
    if found is None:
        return 0
    booked = min(
        clinic_datetime(day - dt.timedelta(days=rng.randint(3, 12)), dt.time(11, 0)),
        timezone.now() - dt.timedelta(hours=1),
        found.starts_at - dt.timedelta(hours=1),
    )
    appointment = desk.book_one(patient, kind, found.starts_at, users, now=booked)
    play_out(appointment, users, rng, today)
    return 1


def free_slot(patient, kind, day, rng) -> slots.Placement | None:
    """The first placement from a random hour that does not overlap the patient's visits."""
    picture = services.availability(day, kind, patient_id=patient.pk)
    wanted = clinic_datetime(day, dt.time(rng.randint(8, 14), rng.choice([0, 30])))
    for not_before in (wanted, clinic_datetime(day, dt.time(8, 0))):
        for _ in range(12):
            found = slots.first_placement(dataclasses.replace(picture, not_before=not_before))
            if isinstance(found, slots.NoPlacement):
                break
            busy = (
                Appointment.objects.filter(patient=patient)
                .overlapping(found.starts_at, found.ends_at)
                .order_by("-ends_at")
                .first()
            )
            if busy is None:
                return found
            not_before = busy.ends_at
    return None


def play_out(appointment: Appointment, users, rng, today) -> None:
    """Past visits happened (a few were missed or cancelled); the next days are confirmed."""
    day = timezone.localdate(appointment.starts_at)
    start, end = appointment.starts_at, appointment.ends_at
    now = timezone.now()
    if end <= now:
        outcome = rng.choices(["completed", "no_show", "cancelled"], weights=[90, 4, 6])[0]
        if outcome == "cancelled":
            desk.transition(
                appointment,
                Status.CANCELLED,
                users,
                now=start - dt.timedelta(days=1),
                reason="Patient called to cancel",
            )
        elif outcome == "no_show":
            desk.transition(
                appointment, Status.NO_SHOW, users, now=start + dt.timedelta(minutes=30)
            )
        else:
            desk.check_in(appointment, users)
            desk.transition(appointment, Status.IN_SESSION, users, now=start)
            desk.transition(appointment, Status.COMPLETED, users, now=end)
    elif day <= today + dt.timedelta(days=2) and rng.random() < 0.5:
        desk.transition(appointment, Status.CONFIRMED, users, now=now)
