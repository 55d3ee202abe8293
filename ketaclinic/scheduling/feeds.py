"""Private iCalendar feeds: each staff member sees their own visits in their calendar app.

The feed URL carries a random token (only its hash is stored) and can be revoked. Events
name the visit, place and the patient's initials only: a calendar app is outside the clinic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import icalendar
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail

from .models import Appointment, CalendarFeed

PAST_DAYS, FUTURE_DAYS = 30, 180


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@login_required
@require_http_methods(["GET", "POST"])
def manage(request):
    """Create a new feed URL (shown once) or revoke the existing ones."""
    require_permission(request, "calendar.view")
    new_url = ""
    if request.method == "POST":
        now = timezone.now()
        revoked = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if request.POST.get("action") == "create":
            raw = secrets.token_urlsafe(32)
            CalendarFeed.objects.create(user=request.user, key_hash=hash_key(raw))
            new_url = settings.SITE_URL.rstrip("/") + reverse(
                "scheduling:feed", kwargs={"token": raw}
            )
            trail.record(action="calendar_feed.create", request=request)
        else:
            trail.record(
                action="calendar_feed.revoke", request=request, detail={"revoked": revoked}
            )
            messages.success(request, "Your calendar feed link no longer works.")
    active = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()
    return render(request, "scheduling/feed.html", {"new_url": new_url, "active": active})


def feed(request, token: str):
    found = (
        CalendarFeed.objects.select_related("user")
        .filter(key_hash=hash_key(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if found is None:
        raise Http404
    trail.record(action="calendar_feed.read", actor=found.user, request=request)
    body = calendar_for(found.user).to_ical()
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def calendar_for(user) -> icalendar.Calendar:
    now = timezone.now()
    visits = (
        Appointment.objects.holding()
        .filter(
            staff=user,
            starts_at__gte=now - dt.timedelta(days=PAST_DAYS),
            starts_at__lte=now + dt.timedelta(days=FUTURE_DAYS),
        )
        .select_related("type", "patient", "chair__room")
    )
    cal = icalendar.Calendar()
    cal.add("prodid", "-//ketaclinic//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{settings.CLINIC_NAME}: {user.display_name}")
    for visit in visits:
        cal.add_component(event_for(visit, now))
    return cal


def event_for(visit: Appointment, now: dt.datetime) -> icalendar.Event:
    initials = f"{visit.patient.given_name[:1]}{visit.patient.family_name[:1]}"
    event = icalendar.Event()
    event.add("uid", f"appointment-{visit.pk}@ketaclinic")
    event.add("dtstamp", now)
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    event.add("summary", f"{visit.type.name} ({initials})")
    if visit.chair:
        event.add("location", str(visit.chair))
    event.add("status", "CONFIRMED" if visit.status != "scheduled" else "TENTATIVE")
    return event
