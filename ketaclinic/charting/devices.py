"""Bedside monitors: issuing, finding and revoking their tokens.

A monitor is bound to one chair and writes vitals only to the session running in that chair
(``charting/api.py``). Its token is shown once, when it is issued; only its SHA-256 is
stored, as for staff API tokens (``accounts.models.ApiToken``). Device tokens carry their own
prefix so the API can tell them from staff tokens without a second lookup.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.accounts.models import hash_token
from ketaclinic.audit import trail
from ketaclinic.scheduling.models import Chair

from .models import IngestionRequest, MonitorDevice

DEVICE_TOKEN_PREFIX = "kcm_"


def is_device_token(raw: str) -> bool:
    return raw.startswith(DEVICE_TOKEN_PREFIX)


def monitor_issue(*, chair: Chair, name: str, by=None, request=None) -> tuple[MonitorDevice, str]:
    """Register a monitor in ``chair``; returns the device and its token (shown only now)."""
    name = name.strip()
    if not name:
        raise ValueError("Name the monitor, e.g. 'Chair 3 Philips MX450'.")
    raw = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        device = MonitorDevice.objects.create(
            name=name[:100], chair=chair, key_hash=hash_token(raw)
        )
        trail.record(
            action="monitor.issue",
            request=request,
            actor=by,
            actor_username="" if by else "manage.py",
            target=device,
            detail={"chair": chair.pk, "name": device.name},
        )
    return device, raw


def monitor_revoke(*, device: MonitorDevice, by=None, request=None) -> bool:
    """Revoke a monitor's token; False when it was already revoked."""
    if device.revoked_at is not None:
        return False
    with transaction.atomic():
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
        trail.record(
            action="monitor.revoke",
            request=request,
            actor=by,
            actor_username="" if by else "manage.py",
            target=device,
            detail={"chair": device.chair_id, "name": device.name},
        )
    return True


def monitor_for_token(raw: str) -> MonitorDevice | None:
    """The active monitor holding ``raw``, or None (unknown, revoked or not a device token)."""
    if not is_device_token(raw):
        return None
    # Every batch a monitor sends is authenticated here. A raw query skips the ORM's
    # compilation of the statement on every call, which costs more than the lookup itself.
    table = connection.ops.quote_name(MonitorDevice._meta.db_table)
    found = MonitorDevice.objects.raw(
        f"SELECT * FROM {table} WHERE key_hash = %s AND revoked_at IS NULL", [hash_token(raw)]
    )
    return next(iter(found), None)


def ingestion_keys_prune(*, older_than: dt.timedelta) -> int:
    """Forget idempotency keys (and their stored answers) older than ``older_than``.

    A monitor retries a batch within seconds or minutes; a key kept for a day covers every
    retry, and without pruning the table grows by one row per batch for ever. A batch resent
    after its key is gone is stored again, so keep the window well above any retry policy.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        pruned, _ = IngestionRequest.objects.filter(created_at__lt=cutoff).delete()
        trail.record(
            action="monitor.keys_pruned",
            actor_username="manage.py",
            detail={"pruned": pruned, "older_than_hours": older_than.total_seconds() / 3600},
        )
    return pruned
