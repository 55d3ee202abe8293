"""Forms of the controlled-substance log. They only parse input; the services decide.

A waste or a count is witnessed: the witness is named and signs by entering their own
password on the same screen (checked by ``accounts.verification``: wrong passwords are
audited and throttled on their own, and never count toward the witness's sign-in lockout).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from ketaclinic.accounts import verification
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import PERMISSIONS

from .models import Drug, LedgerEntry, Lot

MG = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal("0.01")}


class ReceiveForm(forms.Form):
    drug = forms.ChoiceField(choices=Drug.choices)
    product = forms.CharField(
        max_length=100, help_text="As on the label, e.g. Ketamine HCl 50 mg/mL, 10 mL vial."
    )
    supplier = forms.CharField(max_length=150)
    lot_number = forms.CharField(max_length=40)
    mg_per_vial = forms.DecimalField(
        label="mg per vial", help_text="For esketamine, one device: 28 mg.", **MG
    )
    ml_per_vial = forms.DecimalField(
        label="mL per vial", max_digits=6, decimal_places=2, min_value=Decimal("0.01")
    )
    vials = forms.IntegerField(label="Vials received", min_value=1, max_value=100_000)
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label="Reference",
        max_length=300,
        required=False,
        help_text="Invoice or order form number.",
    )


def witnesses(exclude: User) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(
            is_active=True, role__in=PERMISSIONS["inventory.witness"]
        ).exclude(pk=exclude.pk),
        help_text="A second clinician who saw it.",
    )


class WitnessedForm(forms.Form):
    """A form a witness signs with their own password."""

    purpose = "inventory.waste"  # the audit action a wrong password is recorded against
    status_code: int | None = None  # 429 once the witness is throttled

    def __init__(self, *args, request, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["witness"] = witnesses(exclude=request.user)
        self.fields["witness_password"] = forms.CharField(
            label="Witness's password",
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text="The witness signs by entering their own password.",
        )

    def clean(self):
        data = super().clean()
        witness, password = data.get("witness"), data.get("witness_password")
        if witness and password:
            try:
                verification.verify_password(
                    self.request,
                    verifier=witness,
                    password=password,
                    purpose=self.purpose,
                    field="witness_password",
                    role="the witness",
                )
            except verification.VerificationThrottled as error:
                self.status_code = error.status_code
                self.add_error(None, error)
            except ValidationError as error:
                self.add_error(None, error)
        return data


class DrawForm(forms.Form):
    lot = forms.ModelChoiceField(queryset=Lot.objects.none())
    quantity_mg = forms.DecimalField(label="Quantity (mg)", **MG)
    reason = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args, lots, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots


class AdministerForm(forms.Form):
    draw = forms.ModelChoiceField(queryset=LedgerEntry.objects.none())
    quantity_mg = forms.DecimalField(
        label="Quantity (mg)",
        required=False,
        help_text="Leave blank to log what the administration record shows delivered.",
        **MG,
    )

    def __init__(self, *args, draws, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        use_draw(self, draws)


class WasteForm(WitnessedForm):
    draw = forms.ModelChoiceField(queryset=LedgerEntry.objects.none())
    quantity_mg = forms.DecimalField(label="Quantity wasted (mg)", **MG)
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, draws, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        use_draw(self, draws)
        self.order_fields(["draw", "quantity_mg", "reason", "witness", "witness_password"])


class StockWasteForm(WitnessedForm):
    quantity_mg = forms.DecimalField(label="Quantity wasted (mg)", **MG)
    reason = forms.CharField(max_length=300, help_text="Broken vial, expired, contaminated…")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["quantity_mg", "reason", "witness", "witness_password"])


class CountForm(WitnessedForm):
    purpose = "inventory.count"
    full_vials = forms.IntegerField(label="Sealed vials", min_value=0, max_value=100_000)
    partial_ml = forms.DecimalField(
        label="mL left in an opened vial",
        required=False,
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=2,
    )
    reason = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["full_vials", "partial_ml", "reason", "witness", "witness_password"])


def use_draw(form: forms.Form, draws) -> None:
    """Offer the session's open draws; with only one, it is already chosen."""
    form.fields["draw"].queryset = draws
    form.fields["draw"].label_from_instance = draw_label
    only = list(draws[:2])
    if len(only) == 1:
        form.initial.setdefault("draw", only[0].pk)


def draw_label(draw: LedgerEntry) -> str:
    return f"Draw #{draw.pk}: {draw.quantity_mg} mg from lot {draw.lot.lot_number}"
