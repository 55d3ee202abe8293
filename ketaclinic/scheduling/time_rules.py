"""The time rules every booking obeys: a date on the clinic's calendar, never a time that has
passed, and check-in only on the visit's own clinic-local day.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import (
    Appointment,
    calendar_date_problem,
)


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
