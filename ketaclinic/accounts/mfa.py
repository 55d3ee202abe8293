"""Second factor at sign-in: authenticator-app codes (TOTP), passkeys, one-time recovery codes.

Library choice: django-otp (TOTP and static recovery-code devices) with django-otp-webauthn
(passkeys), both declaring Django 5.2 support. They add a verified *device* to the session
that Django's own login already created, so the existing password sign-in (our LoginView
behind django-axes' lockout) stays the first factor unchanged; this module adds the second
step after it. django-allauth's MFA was the alternative, but it hooks into allauth's own
account and login flow, so adopting it would have meant replacing the whole sign-in.

What this module decides, and the views and middleware only call:

- who must use a second factor (``must_use_second_factor``: staff and superusers when
  ``settings.MFA_REQUIRED``; anyone who has enrolled a device, because a device that is never
  asked for protects nothing);
- checking a code (``verify_code``): TOTP codes through django-otp, which remembers the last
  time step used so a code cannot be replayed; recovery codes are deleted when used;
- the throttle: ``MAX_FAILURES`` wrong codes in a row lock the second step for ``LOCK_FOR``.
  Every failure and every lock is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .models import SecondFactorThrottle, User
from .roles import Role

# Clinic policy: five wrong second-factor codes in a row lock that person's second step for
# fifteen minutes (NIST SP 800-63B 5.2.2 asks for a limit on consecutive failed attempts).
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Clinic policy: how many one-time recovery codes a person gets at a time.
RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
AUTHENTICATOR_NAME = "Authenticator app"
# Set at sign-in when the person has a device, so later requests know a second step is due
# without asking the database on every request.
ENROLLED_SESSION_KEY = "kc_mfa_enrolled"


def is_staff_account(user: User) -> bool:
    """Staff roles and Django-admin accounts: the people who must use a second factor."""
    return user.role != Role.PATIENT or user.is_staff or user.is_superuser


def required_by_policy(user: User) -> bool:
    return bool(getattr(settings, "MFA_REQUIRED", False)) and is_staff_account(user)


def is_verified(user) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified())


def has_device(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def has_primary_device(user: User) -> bool:
    """An authenticator or a passkey: recovery codes only stand in for one."""
    from django_otp_webauthn.models import WebAuthnCredential

    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def must_use_second_factor(request) -> bool:
    """Whether this signed-in, not yet verified session is held back until a second step."""
    user = request.user
    if not user.is_authenticated or is_verified(user):
        return False
    return required_by_policy(user) or bool(request.session.get(ENROLLED_SESSION_KEY))


# --- Throttle --------------------------------------------------------------------------


def locked_until(user: User) -> datetime | None:
    """When the current lock ends, or None when the person may try a code."""
    row = SecondFactorThrottle.objects.filter(user=user).first()
    if row is None or row.locked_until is None or row.locked_until <= timezone.now():
        return None
    return row.locked_until


def lock_message(until: datetime) -> str:
    local = timezone.localtime(until)
    return (
        f"Too many wrong codes. The second sign-in step is locked for this account until "
        f"{local:%H:%M}. Wait, or ask the clinic admin for help."
    )


def record_failure(request, user: User, *, method: str) -> datetime | None:
    """Count one failed attempt (audited); lock and return the lock's end at the limit."""
    with transaction.atomic():
        row, _ = SecondFactorThrottle.objects.select_for_update().get_or_create(user=user)
        now = timezone.now()
        if row.locked_until is not None and row.locked_until <= now:
            row.failures, row.locked_until = 0, None  # the previous lock has run out
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + LOCK_FOR
        row.save(update_fields=["failures", "locked_until"])
        trail.record(
            action="mfa.refused",
            actor=user,
            request=request,
            outcome=Outcome.REFUSED,
            detail={"method": method, "failures": row.failures},
        )
        if row.locked_until is not None:
            trail.record(
                action="mfa.locked",
                actor=user,
                request=request,
                outcome=Outcome.REFUSED,
                detail={"failures": row.failures, "until": row.locked_until},
            )
        return row.locked_until


def record_refused_while_locked(request, user: User, *, method: str) -> None:
    trail.record(
        action="mfa.refused",
        actor=user,
        request=request,
        outcome=Outcome.REFUSED,
        detail={"method": method, "reason": "locked"},
    )


def clear_failures(user: User) -> None:
    SecondFactorThrottle.objects.filter(user=user).update(failures=0, locked_until=None)


# --- Verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    device: TOTPDevice | StaticDevice | None
    method: str  # "totp" or "recovery_code"

    @property
    def ok(self) -> bool:
        return self.device is not None


# Longer than any code we issue; anything beyond is not a code.
MAX_CODE_LENGTH = 32


def normalise_code(code: str) -> str:
    """Lower-case letters, digits and dashes only: spaces typed in, or bytes no code has
    (a NUL would not even reach PostgreSQL), are dropped."""
    kept = (ch for ch in code.lower() if ch.isascii() and (ch.isalnum() or ch == "-"))
    return "".join(kept)[:MAX_CODE_LENGTH]


def looks_like_totp(code: str) -> bool:
    return code.isdigit() and len(code) == 6


def verify_code(user: User, code: str) -> CodeCheck:
    """Check a six-digit authenticator code or a recovery code against the user's devices.

    Each device row is locked while it is checked, so two requests with the same code cannot
    both pass: django-otp stores the time step used and refuses it and earlier ones after.
    """
    code = normalise_code(code)
    if looks_like_totp(code):
        with transaction.atomic():
            for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(code):
                    return CodeCheck(device, "totp")
        return CodeCheck(None, "totp")
    with transaction.atomic():
        for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(format_recovery_code(code)):
                return CodeCheck(device, "recovery_code")
    return CodeCheck(None, "recovery_code")


def complete_second_step(request, device, *, method: str) -> None:
    """Mark the session verified with ``device`` (audited) and forget earlier failures."""
    otp_login(request, device)
    # A new session key for the now-verified session, as Django does at password sign-in.
    request.session.cycle_key()
    request.session[ENROLLED_SESSION_KEY] = True
    clear_failures(request.user)
    detail = {"method": method}
    if method == "recovery_code":
        detail["recovery_codes_left"] = recovery_codes_left(request.user)
    trail.record(action="mfa.verified", request=request, target=device, detail=detail)


# --- Enrolment -------------------------------------------------------------------------


def pending_authenticator(user: User) -> TOTPDevice:
    """The user's authenticator being set up (unconfirmed), created on first need."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def confirmed_authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def confirm_authenticator(request, device: TOTPDevice, code: str) -> bool:
    """Confirm a pending authenticator with its first code; the session becomes verified."""
    code = normalise_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not looks_like_totp(code) or not device.verify_token(code):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        trail.record(
            action="mfa.enrolled", request=request, target=device, detail={"method": "totp"}
        )
    complete_second_step(request, device, method="totp")
    return True


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (drawn here; no outside service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111")


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator app."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def format_recovery_code(code: str) -> str:
    bare = code.replace("-", "")
    return f"{bare[:5]}-{bare[5:]}" if len(bare) == 10 else code


def new_recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed
    return format_recovery_code("".join(secrets.choice(alphabet) for _ in range(10)))


def issue_recovery_codes(request, user: User) -> list[str]:
    """Replace the user's recovery codes with new ones (audited); returned once, to show."""
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        trail.record(
            action="mfa.recovery_codes_issued",
            request=request,
            actor=user,
            target=device,
            detail={"count": len(codes)},
        )
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def remove_device(request, device) -> None:
    """Delete one of the user's devices (audited)."""
    kind = type(device).__name__
    with transaction.atomic():
        trail.record(
            action="mfa.device_removed",
            request=request,
            target=device,
            detail={"kind": kind, "name": device.name},
        )
        device.delete()


def reset_second_factor(user: User, *, reason: str) -> int:
    """Remove every device of ``user`` and lift any lock (an operator's command; audited)."""
    from django_otp import devices_for_user

    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        SecondFactorThrottle.objects.filter(user=user).delete()
        trail.record(
            action="mfa.reset",
            actor=user,
            target=user,
            detail={"devices": len(devices), "reason": reason, "by": "cli"},
        )
    return len(devices)
