from __future__ import annotations

from django import forms

from . import rules
from .models import INDICATION_CHOICES, ROUTE_CHOICES, ClinicianDecision

ORAL_CHOICES = [("", "Not known"), ("yes", "Yes"), ("no", "No")]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class ScreeningForm(forms.Form):
    route = forms.ChoiceField(choices=ROUTE_CHOICES, label="Proposed route")
    indication = forms.ChoiceField(choices=INDICATION_CHOICES, label="Indication")
    reported_findings = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    systolic_mmhg = forms.IntegerField(required=False, label="Systolic (mmHg)")
    diastolic_mmhg = forms.IntegerField(required=False, label="Diastolic (mmHg)")
    bp_measured_at = forms.DateTimeField(
        required=False,
        label="Measured at",
        widget=DateTimeInput(format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for now.",
    )
    oral_antidepressant = forms.ChoiceField(
        choices=ORAL_CHOICES, required=False, label="Takes an oral antidepressant"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_findings"].choices = [
            (entry.code, entry.finding)
            for entry in rules.vocabulary_entries(include_computed=False)
        ]

    def answers(self) -> dict:
        data = dict(self.cleaned_data)
        data["reported_findings"] = list(data["reported_findings"])
        data["oral_antidepressant"] = {"yes": True, "no": False}.get(data["oral_antidepressant"])
        return data


class SignForm(forms.Form):
    clinician_decision = forms.ChoiceField(
        choices=ClinicianDecision.choices, widget=forms.RadioSelect, label="Your decision"
    )
    reasoning = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reasoning",
        help_text="Required to sign eligible when findings need review.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why is this entry wrong?")
