"""Prior authorization per plan: change its status along the transitions table (each change
an event, audited), and warn when an esketamine course is booked beyond it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.scheduling.course_warnings import CourseWarning

from .authorization import AuthChange, AuthSnapshot, Visit, booking_warnings, change_problems
from .models import AuthorizationEvent, AuthStatus, PriorAuthorization

ESKETAMINE = "esketamine"
# What the worklist lists: authorizations someone has to act on, and approvals running out.
ACTION_STATUSES = (AuthStatus.TO_SUBMIT, AuthStatus.SUBMITTED, AuthStatus.DENIED, AuthStatus.APPEAL)
EXPIRY_NOTICE_DAYS = 14


def authorization_of(plan) -> PriorAuthorization | None:
    return PriorAuthorization.objects.filter(plan=plan).first()


def authorization_change(*, request, plan, change: AuthChange, note: str = "", now=None):
    """Move ``plan``'s authorization to ``change.to_status`` (creating it on first use)."""
    now = now or timezone.now()
    with transaction.atomic():
        auth = PriorAuthorization.objects.select_for_update().filter(plan=plan).first()
        from_status = auth.status if auth else ""
        problems = change_problems(from_status, change)
        if not problems:
            return store_change(request, plan, auth, from_status, change, note, now)
    # Audited outside the transaction: the refusal must stay on the trail.
    trail.record(
        action="prior_auth.change",
        request=request,
        patient_id=plan.patient_id,
        target=auth or plan,
        outcome="invalid",
        detail={"from": from_status, "to": change.to_status, "errors": problems},
    )
    raise ValidationError(problems)


def store_change(request, plan, auth, from_status: str, change: AuthChange, note: str, now):
    """Store one allowed change: the row, its event and the audit row (caller's transaction)."""
    approved = change.to_status == AuthStatus.APPROVED
    auth = auth or PriorAuthorization(plan=plan)
    auth.status = change.to_status
    if approved:
        auth.auth_number = change.auth_number.strip()
        auth.units = change.units
        auth.valid_from = change.valid_from
        auth.valid_to = change.valid_to
    if change.to_status == AuthStatus.DENIED:
        auth.denial_reason = change.denial_reason.strip()
    auth.updated_at = now
    auth.save()
    event = AuthorizationEvent.objects.create(
        authorization=auth,
        from_status=from_status,
        to_status=change.to_status,
        auth_number=auth.auth_number if approved else "",
        units=auth.units if approved else None,
        valid_from=auth.valid_from if approved else None,
        valid_to=auth.valid_to if approved else None,
        note=(change.denial_reason if change.to_status == AuthStatus.DENIED else note).strip(),
        by=request.user,
        at=now,
    )
    trail.record(
        action="prior_auth.change",
        request=request,
        patient_id=plan.patient_id,
        target=auth,
        detail={
            "plan": plan.pk,
            "from": from_status,
            "to": change.to_status,
            "event": event.pk,
        },
    )
    return auth


def snapshot(auth: PriorAuthorization | None) -> AuthSnapshot | None:
    if auth is None:
        return None
    return AuthSnapshot(auth.status, auth.units, auth.valid_from, auth.valid_to)


def course_warnings(patient, plan, items) -> list:
    """Scheduling's course-warning provider: esketamine visits the authorization does not cover."""
    if plan is None or plan.route != ESKETAMINE or not items:
        return []
    already = (
        patient.appointments.filter(course_key=f"plan-{plan.pk}")
        .exclude(status__in=("cancelled", "no_show"))
        .count()
    )
    visits = [Visit(item.number, item.date) for item in items]
    found = booking_warnings(snapshot(authorization_of(plan)), visits, already_booked=already)
    return [CourseWarning(w.number, w.message) for w in found]


def needing_action(today: dt.date):
    """Authorizations of live plans to act on, and approvals ending within the notice."""
    soon = today + dt.timedelta(days=EXPIRY_NOTICE_DAYS)
    return (
        PriorAuthorization.objects.filter(plan__status__in=("draft", "active"))
        .filter(Q(status__in=ACTION_STATUSES) | Q(status=AuthStatus.APPROVED, valid_to__lte=soon))
        .select_related("plan__patient")
        .order_by("updated_at", "id")
    )
