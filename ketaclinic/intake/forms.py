from __future__ import annotations

from django import forms

from ketaclinic.patients.models import Sex

from . import vocabulary
from .models import PreferredContact, Status


class DateInput(forms.DateInput):
    input_type = "date"


class RequestForm(forms.Form):
    """The public form. Its checks are the service's (``requests.problems``), not the form's."""

    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", widget=DateInput)
    email = forms.CharField(label="Email", max_length=254, widget=forms.EmailInput)
    phone = forms.CharField(label="Phone", max_length=30, widget=forms.TextInput({"type": "tel"}))
    state_or_region = forms.CharField(label="State or region", max_length=100)
    conditions = forms.MultipleChoiceField(
        label="What would you like help with?",
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )
    current_treatment = forms.CharField(
        label="Treatment you receive now (medicines, therapy)",
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 3}),
    )
    preferred_contact = forms.ChoiceField(
        label="How should we contact you?", choices=PreferredContact.choices
    )
    message = forms.CharField(
        label="Anything else you would like us to know",
        required=False,
        max_length=4000,
        widget=forms.Textarea({"rows": 4}),
    )
    suicidal_thoughts = forms.BooleanField(
        label="I am having thoughts of ending my life or harming myself", required=False
    )
    consent_to_contact = forms.BooleanField(
        label="The clinic may contact me about this request", required=False
    )
    # The honeypot: hidden from people (and from screen readers), filled in by bots.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput({"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].choices = [
            (c.code, c.label) for c in vocabulary.conditions().values()
        ]

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(name) for name in self.fields if name not in {"website"} and name in data
        } | {"consent_to_contact": bool(data.get("consent_to_contact"))}


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 2}))


class RedFlagForm(forms.Form):
    note = forms.CharField(
        label="Early red flag",
        max_length=2000,
        widget=forms.Textarea({"rows": 2}),
        help_text="E.g. active psychosis mentioned. Shown prominently to everyone who triages.",
    )


class ConvertForm(forms.Form):
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN, label="Sex (for the record)")
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)
