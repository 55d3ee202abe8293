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
