"""``/policy/vitals/``: the vital-sign policy in force, its history, and a prescriber's change."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from . import policy
from .models import VitalSignPolicyVersion


@login_required
def vital_sign_policy(request):
    require_permission(request, "policy.view")
    in_force = policy.in_force()
    errors, status, entered = {}, 200, {}
    if request.method == "POST":
        require_permission(request, "policy.edit")
        entered = {t.key: request.POST.get(t.key, "") for t in policy.thresholds()}
        try:
            version = policy.policy_change(
                request=request,
                entered=entered,
                reason=request.POST.get("reason", ""),
                based_on=int(request.POST.get("based_on") or 0),
            )
        except ValidationError as error:
            errors, status = {k: " ".join(v) for k, v in error.message_dict.items()}, 422
        except policy.PolicyConflict as conflict:
            errors, status = {"based_on": str(conflict)}, 409
        else:
            messages.success(request, f"Vital-sign policy v{version.number} is in force.")
            return redirect("policy:vitals")
        trail.record(
            action="policy.vitals_changed",
            request=request,
            outcome=Outcome.INVALID if status == 422 else Outcome.REFUSED,
            detail={"errors": errors},
        )
    values = policy.values_of(in_force)
    rows = [
        {
            "threshold": t,
            "rule": in_force.rule(t.rule.code),
            "default": policy.DEFAULT_VALUES[t.key],
            "value": entered.get(t.key, values[t.key]),
            "changed": values[t.key] != policy.DEFAULT_VALUES[t.key],
            "error": errors.get(t.key, ""),
        }
        for t in policy.thresholds()
    ]
    context = {
        "rows": rows,
        "policy": in_force,
        "based_on": policy.version_number(in_force),
        "versions": VitalSignPolicyVersion.objects.select_related("signed_by"),
        "can_edit": can(request.user, "policy.edit"),
        "cache_seconds": policy.CACHE_SECONDS,
        "errors": errors,
        "reason": request.POST.get("reason", "") if errors else "",
    }
    return render(request, "charting/vital_sign_policy.html", context, status=status)
