"""Billing's sections on earlier pages: the plan's prior authorization and the worklist's
authorizations to act on (registered from BillingConfig.ready())."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.accounts.permissions import can

from . import authorization_services
from .authorization import allowed_next
from .models import AuthStatus


def plan_authorization_section(request, plan) -> dict | None:
    if not can(request.user, "prior_auth.view"):
        return None
    auth = authorization_services.authorization_of(plan)
    events = list(auth.events.select_related("by")) if auth else []
    return {
        "template": "billing/_plan_authorization.html",
        "auth": auth,
        "events": events,
        "plan": plan,
        "next": [AuthStatus(s).label for s in sorted(allowed_next(auth.status if auth else ""))],
        "may_edit": can(request.user, "prior_auth.edit"),
        "may_packet": can(request.user, "prior_auth.packet")
        and plan.route == authorization_services.ESKETAMINE,
    }


def worklist_authorizations_section(request) -> dict | None:
    if not can(request.user, "prior_auth.view"):
        return None
    today = timezone.localdate()
    return {
        "template": "billing/_worklist_authorizations.html",
        "authorizations": list(authorization_services.needing_action(today)[:50]),
        "today": today,
    }
