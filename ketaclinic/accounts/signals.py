"""Stamp the session at login so the automatic-logoff middleware can measure from it."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

LOGIN_AT = "kc_login_at"
LAST_SEEN = "kc_last_seen"


@receiver(user_logged_in)
def stamp_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[LAST_SEEN] = now


@receiver(user_logged_in)
def note_second_factor_due(sender, request, user, **kwargs) -> None:
    """Remember for this session whether the person has a second factor to verify.

    Asked once here, so the second-factor middleware need not ask the database on every
    request (list and chart pages pin their query counts).
    """
    from .mfa import ENROLLED_SESSION_KEY, has_device

    if request is not None and hasattr(request, "session"):
        request.session[ENROLLED_SESSION_KEY] = has_device(user)
