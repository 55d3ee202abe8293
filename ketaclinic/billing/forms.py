from __future__ import annotations

from django import forms

from .coverage import CoverageInput, coverage_problems
from .models import Network, SubscriberRelationship


class CoverageForm(forms.Form):
    self_pay = forms.BooleanField(required=False, label="Self-pay (no insurance billed)")
    payer_name = forms.CharField(required=False, max_length=150, label="Insurer")
    member_id = forms.CharField(required=False, max_length=60, label="Member id")
    group_number = forms.CharField(required=False, max_length=60, label="Group number")
    subscriber_relationship = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *SubscriberRelationship.choices],
        label="Policy holder is the patient's",
    )
    network = forms.ChoiceField(choices=Network.choices, initial=Network.UNKNOWN)
    effective_from = forms.DateField(
        label="Effective from", widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_to = forms.DateField(
        required=False,
        label="Effective to",
        help_text="Leave empty while the coverage is open-ended.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        for field, message in coverage_problems(self.entry()).items():
            self.add_error(field, message)
        return data

    def entry(self) -> CoverageInput:
        data = self.cleaned_data
        return CoverageInput(
            self_pay=data.get("self_pay", False),
            payer_name=data.get("payer_name", "").strip(),
            member_id=data.get("member_id", "").strip(),
            group_number=data.get("group_number", "").strip(),
            subscriber_relationship=data.get("subscriber_relationship", ""),
            network=data.get("network") or Network.UNKNOWN,
            effective_from=data["effective_from"],
            effective_to=data.get("effective_to"),
        )


class AuthorizationForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    auth_number = forms.CharField(
        required=False, max_length=60, label="Authorization number", help_text="When approved."
    )
    units = forms.IntegerField(required=False, min_value=1, max_value=1000, label="Visits approved")
    valid_from = forms.DateField(
        required=False, label="Approved from", widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        required=False, label="Approved to", widget=forms.DateInput(attrs={"type": "date"})
    )
    denial_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Payer's denial reason"
    )
    note = forms.CharField(required=False, max_length=500, label="Note")

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = choices

    def change(self):
        from .authorization import AuthChange

        data = self.cleaned_data
        return AuthChange(
            to_status=data["status"],
            auth_number=data.get("auth_number") or "",
            units=data.get("units"),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            denial_reason=data.get("denial_reason") or "",
        )
