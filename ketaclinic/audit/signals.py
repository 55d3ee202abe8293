"""Authentication events go to the audit trail: sign-ins, sign-outs and every failed attempt."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from . import trail
from .models import Outcome


def on_login(sender, request, user, **kwargs) -> None:
    trail.record(action="auth.login", actor=user, request=request)


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        trail.record(action="auth.logout", actor=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    trail.record(
        action="auth.login_failed",
        request=request,
        outcome=Outcome.REFUSED,
        actor_username=str(credentials.get("username", ""))[:150],
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
