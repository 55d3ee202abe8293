from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import CLINICIANS

from . import services, slots
from .models import (
    MAX_ROW_ID,
    AppointmentType,
    Chair,
    calendar_date_problem,
    clinic_datetime,
)


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


def staff_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        User.objects.filter(role__in=CLINICIANS, is_active=True).order_by("last_name"),
        required=False,
        empty_label="Any free staff member",
    )


def chair_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        Chair.objects.filter(active=True).select_related("room"),
        required=False,
        empty_label="Any free chair",
    )


def override_field(help_text: str) -> forms.CharField:
    return forms.CharField(
        label="Prescriber's override reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


def clean_calendar_date(day: dt.date | None) -> dt.date | None:
    problem = calendar_date_problem(day) if day is not None else None
    if problem is not None:
        raise forms.ValidationError(problem)
    return day


class BookingForm(forms.Form):
    type = forms.ModelChoiceField(AppointmentType.objects.all(), label="Visit")
    date = forms.DateField(widget=DateInput)
    time = forms.TimeField(
        widget=TimeInput, required=False, help_text="Leave empty for the first free time."
    )

    def __init__(self, *args, patient=None, prescriber: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.fields["chair"] = chair_field()
        self.fields["staff"] = staff_field()
        if prescriber:
            self.fields["override_reason"] = override_field(
                "Only to book a dosing visit without a matching signed plan; audited."
            )

    def clean_date(self):
        return clean_calendar_date(self.cleaned_data.get("date"))

    def clean(self):
        data = super().clean()
        if self.errors or data.get("time"):
            return data
        picture = services.availability(
            data["date"],
            data["type"],
            patient_id=self.patient.pk if self.patient is not None else None,
            not_before=timezone.now(),
        )
        picture = services.only_staff(picture, data["staff"].pk if data.get("staff") else None)
        found = slots.first_placement(picture)
        if isinstance(found, slots.NoPlacement):
            raise forms.ValidationError(f"No free time on {data['date']:%a %d %b}: {found.reason}.")
        data["time"] = timezone.localtime(found.starts_at).time()
        return data

    def starts_at(self) -> dt.datetime:
        return clinic_datetime(self.cleaned_data["date"], self.cleaned_data["time"])


class MoveForm(forms.Form):
    date = forms.DateField(widget=DateInput)
    time = forms.TimeField(widget=TimeInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"] = chair_field()
        self.fields["staff"] = staff_field()

    def clean_date(self):
        return clean_calendar_date(self.cleaned_data.get("date"))

    def starts_at(self) -> dt.datetime:
        return clinic_datetime(self.cleaned_data["date"], self.cleaned_data["time"])


class CourseForm(forms.Form):
    """A course's visit dates (from the plan's proposal), with per-visit adjustments."""

    type = forms.ModelChoiceField(AppointmentType.objects.exclude(protocol_code=""), label="Visit")
    dates = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One date per line (YYYY-MM-DD), in course order.",
    )
    plan = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, prescriber: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if prescriber:
            self.fields["override_reason"] = override_field(
                "Only to book without a signed plan or on dates other than the plan's; audited."
            )

    def clean_dates(self) -> list[dt.date]:
        found = []
        for line in self.cleaned_data["dates"].replace(",", "\n").split():
            try:
                day = dt.date.fromisoformat(line.strip())
            except ValueError:
                raise forms.ValidationError(f"'{line}' is not a date (YYYY-MM-DD).") from None
            found.append(clean_calendar_date(day))
        if not found:
            raise forms.ValidationError("Give at least one date.")
        if len(found) > 60:
            raise forms.ValidationError("A course has at most 60 visits.")
        return found

    def items(self, plan=None) -> list[services.CourseItem]:
        """The visits, with any time or chair the desk set on the preview.

        A date of the plan keeps its planned session's number; other dates are numbered
        after the plan's (they need a prescriber's override).
        """
        items = []
        for number, day in zip(self.numbers(plan), self.cleaned_data["dates"], strict=True):
            time = parse_time(self.data.get(f"time_{number}", ""))
            chair = self.data.get(f"chair_{number}", "")
            items.append(
                services.CourseItem(
                    number=number,
                    date=day,
                    type=self.cleaned_data["type"],
                    starts_at=clinic_datetime(day, time) if time else None,
                    chair_id=int(chair) if is_row_id(chair) else None,
                )
            )
        return items

    def numbers(self, plan) -> list[int]:
        dates = self.cleaned_data["dates"]
        if plan is None:
            return list(range(1, len(dates) + 1))
        planned = {
            day: number for number, day in plan.planned_sessions.values_list("number", "date")
        }
        extra = max(planned.values(), default=0)
        numbers = []
        for day in dates:
            if day in planned and planned[day] not in numbers:
                numbers.append(planned[day])
            else:
                extra += 1
                numbers.append(extra)
        return numbers


def is_row_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ROW_ID


def parse_time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text) if text else None
    except ValueError:
        return None
