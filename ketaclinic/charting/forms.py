"""Forms of the session page. They check shape only (numbers are numbers, choices are known);
the rules live in the session services (``*_service.py``) and the pure modules, whose
messages come back per field."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role

from . import checklist, safety
from .models import InfusionEventKind, MedicationKind

TIME_HELP = "Blank = now."


class TimeInput(forms.TimeInput):
    input_type = "time"


class DateInput(forms.DateInput):
    input_type = "date"


class PanelForm(forms.Form):
    """A form of the session page: its element ids carry ``slug`` (one page, many forms)."""

    slug = "form"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.slug}_%s")
        super().__init__(*args, **kwargs)


class TimedForm(PanelForm):
    """A form whose entry happened at a time the nurse may give (today, clinic time)."""

    at = forms.TimeField(
        label="Time", required=False, help_text=TIME_HELP, widget=TimeInput(format="%H:%M")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # When it happened comes after what happened.
        self.order_fields([name for name in self.fields if name != "at"] + ["at"])

    def moment(self) -> dt.datetime | None:
        time = self.cleaned_data.get("at")
        if time is None:
            return None
        return dt.datetime.combine(
            timezone.localdate(), time, tzinfo=timezone.get_current_timezone()
        )


def clinicians() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.NURSE, Role.PRESCRIBER]
        ).order_by("last_name", "first_name", "username"),
        required=False,
    )


class ChecklistForm(PanelForm):
    slug = "checklist"

    code = forms.ChoiceField(
        choices=[(item.code, item.label) for item in checklist.DEFAULT_CHECKLIST.items],
        widget=forms.HiddenInput,
    )
    outcome = forms.ChoiceField(
        choices=[("passed", "Confirmed"), ("failed", "Not met")], widget=forms.HiddenInput
    )
    note = forms.CharField(max_length=300, required=False, label="Note")
    second_checker = clinicians()
    second_checker_password = forms.CharField(
        required=False,
        max_length=200,
        strip=False,
        label="Second clinician's password",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["second_checker"].label = "Second clinician"


class OverrideForm(PanelForm):
    slug = "override"

    code = forms.ChoiceField(
        choices=[(item.code, item.label) for item in checklist.DEFAULT_CHECKLIST.items],
        widget=forms.HiddenInput,
    )
    override_reason = forms.CharField(max_length=300, label="Reason for the override")


class StartForm(TimedForm):
    slug = "start"

    rate_mg_per_min = forms.DecimalField(
        label="Infusion rate (mg/min)", max_digits=7, decimal_places=3, required=False
    )
    prescriber_on_site = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role=Role.PRESCRIBER).order_by("last_name"),
        required=False,
        label="Prescriber on site",
    )

    def __init__(self, *args, route: str = "iv", **kwargs):
        super().__init__(*args, **kwargs)
        if route != "iv":
            del self.fields["rate_mg_per_min"]
        if route != "esketamine":
            del self.fields["prescriber_on_site"]
        self.order_fields(["rate_mg_per_min", "prescriber_on_site", "at"])


class NotStartedForm(PanelForm):
    slug = "not_started"

    reason = forms.CharField(max_length=300, label="Why does the session not start?")


class InfusionForm(TimedForm):
    slug = "infusion"

    kind = forms.ChoiceField(
        choices=[(k.value, k.label) for k in InfusionEventKind if k != InfusionEventKind.START],
        label="Event",
    )
    rate_mg_per_min = forms.DecimalField(
        label="New rate (mg/min)", max_digits=7, decimal_places=3, required=False
    )
    reason = forms.CharField(
        max_length=300, required=False, label="Why (rate change, pause, early stop)"
    )


class BolusForm(TimedForm):
    slug = "bolus"

    dose_mg = forms.DecimalField(label="Dose injected (mg)", max_digits=7, decimal_places=2)


class DeviceForm(TimedForm):
    slug = "device"

    pass


class EndDoseForm(TimedForm):
    slug = "end_dose"

    pass


class ProductForm(PanelForm):
    slug = "product"

    product = forms.CharField(max_length=100, label="Product")
    concentration_mg_per_ml = forms.DecimalField(
        label="Concentration (mg/mL)", max_digits=6, decimal_places=2, required=False
    )
    lot_number = forms.CharField(max_length=40, label="Lot number")
    lot_expiry = forms.DateField(label="Lot expiry", widget=DateInput(format="%Y-%m-%d"))


class MedicationForm(TimedForm):
    slug = "medication"

    kind = forms.ChoiceField(choices=MedicationKind.choices, label="Kind")
    drug = forms.CharField(max_length=100, label="Drug")
    dose = forms.CharField(max_length=50, label="Dose")
    route = forms.CharField(max_length=30, label="Route")
    reason = forms.CharField(max_length=300, required=False, label="Why it was given")


class VitalsForm(TimedForm):
    slug = "vitals"

    # No ranges here: the clinic's plausibility limits answer with their own message.
    systolic_mmhg = forms.IntegerField(label="Systolic (mmHg)", required=False)
    diastolic_mmhg = forms.IntegerField(label="Diastolic (mmHg)", required=False)
    heart_rate_bpm = forms.IntegerField(label="Heart rate (/min)", required=False)
    spo2_pct = forms.IntegerField(label="SpO2 (%)", required=False)
    resp_rate_per_min = forms.IntegerField(label="Resp. rate (/min)", required=False)
    temperature_c = forms.DecimalField(
        label="Temperature (°C)", max_digits=3, decimal_places=1, required=False
    )

    VALUES = (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_pct",
        "resp_rate_per_min",
        "temperature_c",
    )

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.VALUES}


class AcknowledgeForm(PanelForm):
    slug = "ack"

    action_taken = forms.CharField(max_length=300, label="What was done")


class DissociationForm(TimedForm):
    slug = "dissociation"

    score = forms.IntegerField(label="Dissociation (0–10)")

    def __init__(self, *args, options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        if options is not None:
            self.fields["score"].label = f"Dissociation ({options.scale_min}–{options.scale_max})"
            if options.cadss_offered:
                for number in options.cadss_items:
                    self.fields[f"cadss_{number}"] = forms.IntegerField(
                        label=f"CADSS item {number}", required=False
                    )

    def cadss_items(self) -> dict[int, int]:
        if self.options is None or not self.options.cadss_offered:
            return {}
        return {
            number: self.cleaned_data.get(f"cadss_{number}")
            for number in self.options.cadss_items
            if self.cleaned_data.get(f"cadss_{number}") is not None
        }


def side_effect_choices() -> list:
    vocabulary = safety.SIDE_EFFECTS
    return [
        (
            vocabulary.categories[category],
            [(e.code, e.label) for e in vocabulary.in_category(category)],
        )
        for category in vocabulary.categories
    ]


class SideEffectForm(TimedForm):
    slug = "side_effect"

    code = forms.ChoiceField(choices=side_effect_choices, label="Side effect")
    severity = forms.ChoiceField(
        choices=[(s, s.title()) for s in safety.SIDE_EFFECTS.severities], label="Severity"
    )
    action = forms.CharField(max_length=300, required=False, label="Action taken")


class AdverseEventForm(TimedForm):
    slug = "adverse_event"

    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What happened")
    serious = forms.BooleanField(required=False, label="Serious (flag for reporting)")


class DischargeForm(PanelForm):
    slug = "discharge"

    whom_to_call = forms.CharField(max_length=300, label="Whom to call after leaving")

    def __init__(self, *args, route: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = safety.DEFAULT_DISCHARGE.criteria_for(route)
        for criterion in self.criteria:
            self.fields[criterion.code] = forms.BooleanField(
                required=False, label=criterion.label, help_text=f"Source: {criterion.source}"
            )
        # Criteria first, then whom to call.
        self.order_fields([c.code for c in self.criteria] + ["whom_to_call"])

    def ticked(self) -> dict[str, bool]:
        return {c.code: bool(self.cleaned_data.get(c.code)) for c in self.criteria}


class IntegrationNoteForm(PanelForm):
    slug = "note"

    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Integration note")


class ErrorForm(PanelForm):
    slug = "error"

    reason = forms.CharField(max_length=300, label="Why is this entry wrong?")
