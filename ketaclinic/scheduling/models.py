"""The clinic's calendar: rooms, chairs, staff time, appointment types and appointments.

No double-booking is a database guarantee, not a check in Python alone: an appointment holds
at most one chair and one *staff lane*, and the database refuses two active appointments
overlapping on the same chair, lane or patient (PostgreSQL exclusion constraints; SQLite
triggers, with IMMEDIATE transactions serialising writers). Staff lanes model how many patients one
person can look after at once: a nurse watching three chairs has three lanes, a prescriber
or therapist has one. See ``guards.py`` and migrations 0003 (chair, lane) and 0004 (patient).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class RoomKind(models.TextChoices):
    INFUSION_SUITE = "infusion_suite", "Infusion suite (chairs)"
    TREATMENT_ROOM = "treatment_room", "Treatment room (esketamine, IM)"
    CONSULT_ROOM = "consult_room", "Consultation / therapy room"


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=RoomKind.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Chair(models.Model):
    """A place a patient occupies for a visit: an infusion chair, a recliner, a consult seat."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=50)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["room__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "name"], name="chair_name_unique_in_room")
        ]

    def __str__(self) -> str:
        return f"{self.room.name} · {self.name}"


class OpeningHours(models.Model):
    """When the clinic is open on a weekday (0 = Monday), in the clinic's time zone."""

    weekday = models.PositiveSmallIntegerField(unique=True)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_valid"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="opening_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ClosedDay(models.Model):
    date = models.DateField(unique=True)
    reason = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.reason}"


class StaffShift(models.Model):
    """A weekly working window of a staff member, in the clinic's time zone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    weekday = models.PositiveSmallIntegerField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        ordering = ["user", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="shift_weekday_valid"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {WEEKDAYS[self.weekday]} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class StaffAbsence(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="absence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} away {self.starts_at:%Y-%m-%d}"


class StaffLane(models.Model):
    """One patient a staff member can look after at a time. Appointments hold a lane."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lanes"
    )
    number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["user", "number"]
        constraints = [
            models.UniqueConstraint(fields=["user", "number"], name="lane_number_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} lane {self.number}"


class AppointmentType(models.Model):
    """What a visit needs and how long it takes; seeded from data/appointment_types.yaml."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    minutes = models.PositiveSmallIntegerField()
    staff_role = models.CharField(max_length=20)
    place = models.CharField(max_length=20, choices=RoomKind.choices)
    protocol_code = models.CharField(max_length=40, blank=True)
    prescriber_on_site = models.BooleanField(default=False)
    sources = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gt=0, minutes__lte=480), name="appointment_type_minutes_sane"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_treatment(self) -> bool:
        return bool(self.protocol_code)


class Status(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    IN_SESSION = "in_session", "In session"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# The status flow, as one table. Anything not listed is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SCHEDULED: frozenset(
        {Status.CONFIRMED, Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}
    ),
    Status.CONFIRMED: frozenset(
        {Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW, Status.SCHEDULED}
    ),
    # Back to scheduled/confirmed only undoes a check-in: to the status it had before, with a
    # reason (services.appointment_transition enforces both).
    Status.CHECKED_IN: frozenset(
        {Status.IN_SESSION, Status.CANCELLED, Status.SCHEDULED, Status.CONFIRMED}
    ),
    Status.IN_SESSION: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
# Statuses that hold their chair and lane. Cancelled and no-show free them.
HOLDING = (
    Status.SCHEDULED,
    Status.CONFIRMED,
    Status.CHECKED_IN,
    Status.IN_SESSION,
    Status.COMPLETED,
)
MOVABLE = (Status.SCHEDULED, Status.CONFIRMED)
UNDO_CHECK_IN = (Status.SCHEDULED, Status.CONFIRMED)

# The calendar the clinic keeps. Dates outside it (year 1, year 9999) are input errors, and
# refusing them up front keeps day arithmetic (the next midnight, UTC offsets) from overflowing.
CALENDAR_FIRST_DAY = dt.date(1900, 1, 1)
CALENDAR_LAST_DAY = dt.date(2999, 12, 31)


# Row ids are 64-bit in both databases; a larger number names no row (and would overflow).
MAX_ROW_ID = 2**63 - 1


def calendar_date_problem(day: dt.date) -> str | None:
    """Why ``day`` cannot be on the clinic's calendar, or None when it can."""
    if CALENDAR_FIRST_DAY <= day <= CALENDAR_LAST_DAY:
        return None
    return (
        f"{day.isoformat()} is outside the clinic's calendar "
        f"({CALENDAR_FIRST_DAY.year}–{CALENDAR_LAST_DAY.year})."
    )


class AppointmentQuerySet(models.QuerySet):
    def holding(self) -> AppointmentQuerySet:
        return self.filter(status__in=HOLDING)

    def overlapping(self, starts_at: dt.datetime, ends_at: dt.datetime) -> AppointmentQuerySet:
        return self.holding().filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def on_day(self, day: dt.date) -> AppointmentQuerySet:
        start = clinic_datetime(day, dt.time(0, 0))
        return self.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))

    def upcoming(self) -> AppointmentQuerySet:
        return self.filter(starts_at__gte=timezone.now(), status__in=MOVABLE)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def clinic_datetime(day: dt.date, at: dt.time) -> dt.datetime:
    """The aware instant of a wall-clock time on a day, in the clinic's zone (DST-safe)."""
    return dt.datetime.combine(day, at, tzinfo=clinic_zone())


class Appointment(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    chair = models.ForeignKey(
        Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    lane = models.ForeignKey(
        StaffLane, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # The lane's person, kept alongside for queries and the staff calendar.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    course_key = models.CharField(
        max_length=40, blank=True, help_text="Appointments booked together as one course share it."
    )
    course_number = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["chair", "starts_at"], name="appointment_chair_start"),
            models.Index(fields=["staff", "starts_at"], name="appointment_staff_start"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_start"),
            models.Index(fields=["course_key"], name="appointment_course"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="appointment_status_known"
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.type.name} {local:%Y-%m-%d %H:%M}"

    @property
    def local_start(self) -> dt.datetime:
        return timezone.localtime(self.starts_at)

    @property
    def local_end(self) -> dt.datetime:
        return timezone.localtime(self.ends_at)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def may_become(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]


class AppointmentEvent(models.Model):
    """Append-only history of an appointment: booked, moved, status changes."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}→{self.to_status}"


class Preparation(models.Model):
    """What the patient confirmed through the reminder link; the session checklist reads it."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="preparation"
    )
    fasting_understood = models.BooleanField(default=False)
    ride_arranged = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=20, default="reminder_link")

    def __str__(self) -> str:
        return f"preparation for {self.appointment_id}"


class Reminder(models.Model):
    """One reminder sent for an appointment on one channel; never sent twice."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    channel = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, default="preparation")
    sent_at = models.DateTimeField(default=timezone.now)
    recipient = models.CharField(max_length=254)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "channel", "kind"], name="reminder_once_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} for {self.appointment_id}"


class CalendarFeed(models.Model):
    """A staff member's private iCalendar feed URL; only the token's hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"
