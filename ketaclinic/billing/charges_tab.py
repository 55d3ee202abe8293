"""The chart's "Charges" tab (registered into patients/chart.py from BillingConfig.ready())."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.accounts.permissions import can

from . import charges


def charges_tab(request, patient) -> dict:
    charges.charges_ensure_for_patient(patient)
    today = timezone.localdate()
    return {
        "charge_lines": list(charges.lines_of(patient)),
        "charge_balance": charges.balance_of(patient),
        "superbill_from": today.replace(day=1),
        "superbill_to": today,
        "may_export_charges": can(request.user, "charges.export"),
    }
