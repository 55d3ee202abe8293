from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import CLINICIANS

from . import services, slots
from .models import AppointmentType, Chair, clinic_datetime


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


class BookingForm(forms.Form):
    type = forms.ModelChoiceField(AppointmentType.objects.all(), label="Visit")
    date = forms.DateField(widget=DateInput)
    time = forms.TimeField(
        widget=TimeInput, required=False, help_text="Leave empty for the first free time."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"] = chair_field()
        self.fields["staff"] = staff_field()

    def clean(self):
        data = super().clean()
        if self.errors or data.get("time"):
            return data
        picture = services.only_staff(
            services.availability(data["date"], data["type"]),
            data["staff"].pk if data.get("staff") else None,
        )
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

    def clean_dates(self) -> list[dt.date]:
        found = []
        for line in self.cleaned_data["dates"].replace(",", "\n").split():
            try:
                found.append(dt.date.fromisoformat(line.strip()))
            except ValueError:
                raise forms.ValidationError(f"'{line}' is not a date (YYYY-MM-DD).") from None
        if not found:
            raise forms.ValidationError("Give at least one date.")
        if len(found) > 60:
            raise forms.ValidationError("A course has at most 60 visits.")
        return found

    def items(self) -> list[services.CourseItem]:
        """The visits, with any time or chair the desk set on the preview."""
        items = []
        for number, day in enumerate(self.cleaned_data["dates"], start=1):
            time = parse_time(self.data.get(f"time_{number}", ""))
            chair = self.data.get(f"chair_{number}", "")
            items.append(
                services.CourseItem(
                    number=number,
                    date=day,
                    type=self.cleaned_data["type"],
                    starts_at=clinic_datetime(day, time) if time else None,
                    chair_id=int(chair) if chair.isdigit() else None,
                )
            )
        return items


def parse_time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text) if text else None
    except ValueError:
        return None
