"""A second clinician signs someone else's entry with their own password.

Witnessing a controlled-substance waste or count and the two-clinician dose check both ask
a colleague standing at the chair to type their password. That is not a sign-in: the
password is checked with ``user.check_password`` directly, never through ``authenticate()``,
so django-axes never sees it and a colleague's typo cannot lock them out of their own
sign-in. Wrong passwords are throttled on their own instead: after
``WRONG_PASSWORDS_ALLOWED`` wrong passwords for one verifying clinician within
``WINDOW``, further attempts are refused (HTTP 429) without checking the password, until the
oldest of those failures leaves the window.

Every wrong password leaves an audit row (outcome refused) that names the clinician asked
to verify and what for, never the password; the throttle counts those rows, so it holds
across processes and survives a restart without a store of its own.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent, Outcome

# Clinic policy: how many wrong second-clinician passwords one clinician may have typed for
# them in WINDOW before verification by that clinician pauses. The same count as the
# sign-in lockout, but a separate counter.
WRONG_PASSWORDS_ALLOWED = 5
WINDOW = dt.timedelta(minutes=15)

WRONG_PASSWORD = "verification.wrong_password"
THROTTLED = "verification.throttled"


class VerificationThrottled(ValidationError):
    """Too many wrong passwords for this verifier lately: answer 429, not 422.

    A ``ValidationError`` so that any form or handler that does not know the difference
    still shows the message instead of failing; views that do know answer 429.
    """

    status_code = 429

    def __init__(self, field: str, message: str, retry_after: dt.timedelta) -> None:
        super().__init__({field: message})
        self.retry_after = retry_after


def clock() -> dt.datetime:
    """Now; one name so a test can let the window pass without waiting."""
    return timezone.now()


def recent_failures(verifier) -> list[dt.datetime]:
    """When this clinician's password was typed wrongly for a check within the window."""
    since = clock() - WINDOW
    return list(
        AuditEvent.objects.filter(
            action=WRONG_PASSWORD,
            object_type=type(verifier).__name__,
            object_id=str(verifier.pk),
            at__gte=since,
        )
        .order_by("at")
        .values_list("at", flat=True)
    )


def throttled_for(verifier) -> dt.timedelta | None:
    """How long until this clinician may verify again, or None when they may now."""
    failures = recent_failures(verifier)
    if len(failures) < WRONG_PASSWORDS_ALLOWED:
        return None
    # The window reopens once enough of the failures have aged out of it.
    frees_at = failures[-WRONG_PASSWORDS_ALLOWED] + WINDOW
    return max(frees_at - clock(), dt.timedelta(seconds=1))


def minutes_text(wait: dt.timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def verify_password(
    request,
    *,
    verifier,
    password: str,
    purpose: str,
    field: str = "password",
    role: str = "the second clinician",
    patient_id: int | None = None,
) -> None:
    """Check that ``password`` is ``verifier``'s own; raise naming ``field`` when it is not.

    ``purpose`` is the audit action being verified (``session.checklist``,
    ``inventory.waste``) and is written on the refusal; ``role`` names the verifier in the
    message ("the witness"). Raises ``VerificationThrottled``
    (429) while the verifier is throttled, ``ValidationError`` (422) on a wrong password.
    The refusal rows are written in the caller's transaction if there is one: call this
    before opening the transaction of the write it guards, so the refusal is kept.
    """
    who = verifier.display_name if hasattr(verifier, "display_name") else verifier.username
    wait = throttled_for(verifier)
    if wait is not None:
        trail.record(
            action=THROTTLED,
            request=request,
            patient_id=patient_id,
            target=verifier,
            outcome=Outcome.REFUSED,
            detail={"purpose": purpose, "verifier": verifier.username},
        )
        raise VerificationThrottled(
            field,
            f"Too many wrong passwords for {who} in the last {minutes_text(WINDOW)}: "
            f"{who} can verify again in {minutes_text(wait)}. Their own sign-in is not "
            "affected.",
            wait,
        )
    if not password or not verifier.is_active or not verifier.check_password(password):
        trail.record(
            action=WRONG_PASSWORD,
            request=request,
            patient_id=patient_id,
            target=verifier,
            outcome=Outcome.REFUSED,
            detail={"purpose": purpose, "verifier": verifier.username},
        )
        raise ValidationError({field: f"That is not {role}'s password ({who})."})
