"""Automatic logoff: end a staff or patient session after idle or absolute time limits."""

from __future__ import annotations

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from ketaclinic.audit import trail

from .signals import LAST_SEEN, LOGIN_AT

# Refresh the idle stamp at most this often, so every request does not write the session.
TOUCH_EVERY_S = 30
# Automatic polls (live board, vitals panel) send this header: they are not a person's
# activity, so they do not keep an unattended screen signed in.
POLL_HEADER = "X-Poll"


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            expired = self.expired_reason(request.session)
            if expired:
                return self.log_out(request, expired)
            if not request.headers.get(POLL_HEADER):
                self.touch(request.session)
        return self.get_response(request)

    @staticmethod
    def expired_reason(session) -> str | None:
        now = time.time()
        login_at = session.get(LOGIN_AT)
        last_seen = session.get(LAST_SEEN)
        if login_at is None or last_seen is None:
            # A session that predates the stamps is treated as new, not as expired.
            session[LOGIN_AT] = session.get(LOGIN_AT, now)
            session[LAST_SEEN] = now
            return None
        if now - last_seen > settings.SESSION_IDLE_TIMEOUT.total_seconds():
            return "idle"
        if now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
            return "absolute"
        return None

    @staticmethod
    def touch(session) -> None:
        now = time.time()
        if now - session.get(LAST_SEEN, 0) >= TOUCH_EVERY_S:
            session[LAST_SEEN] = now

    def log_out(self, request, reason: str) -> HttpResponse:
        user = request.user
        trail.record(
            actor=user, action="session.expired", request=request, detail={"reason": reason}
        )
        logout(request)
        login_url = reverse(settings.LOGIN_URL)
        if request.path.startswith("/api/"):
            return HttpResponse(
                '{"message": "Your session ended; sign in again."}',
                status=401,
                content_type="application/json",
            )
        idle_minutes = int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
        messages.info(
            request,
            f"You were signed out after {idle_minutes} minutes without activity."
            if reason == "idle"
            else "You were signed out after the maximum session length.",
        )
        target = f"{login_url}?next={quote(request.get_full_path())}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
