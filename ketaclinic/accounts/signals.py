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
