"""Writing and verifying the audit trail.

Each event's hash is an HMAC-SHA256, keyed with ``AUDIT_CHAIN_KEY``, over its content and
the previous event's hash, starting from ``GENESIS``. The key means someone with write access
to the database but not to the server's secrets cannot recompute a consistent chain. Changing, removing or inserting a row anywhere breaks the chain from that
point on, which ``verify`` reports with the first sequence number that no longer fits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, Outcome

GENESIS = "0" * 64


def canonical(detail: dict[str, Any] | None) -> dict[str, Any]:
    """Detail as it will read back from the JSON column, so hashes match on verify."""
    return json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder))


def event_hash(event: AuditEvent) -> str:
    fields = [
        event.prev_hash,
        str(event.seq),
        event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        str(event.actor_id or ""),
        event.actor_username,
        event.actor_role,
        event.action,
        str(event.patient_id or ""),
        event.object_type,
        event.object_id,
        event.outcome,
        event.ip_address or "",
        event.path,
        json.dumps(event.detail, sort_keys=True, separators=(",", ":")),
    ]
    message = "\x1f".join(fields).encode()
    return hmac.new(chain_key(), message, hashlib.sha256).hexdigest()


def chain_key() -> bytes:
    return settings.AUDIT_CHAIN_KEY.encode()


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    action: str,
    actor=None,
    request=None,
    patient=None,
    patient_id: int | None = None,
    target=None,
    outcome: str = Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event. Runs inside the caller's transaction when there is one."""
    user = getattr(request, "user", None)
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    if patient is not None:
        patient_id = patient.pk
    event = AuditEvent(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_username=actor.username if actor is not None else actor_username,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        patient_id=patient_id,
        object_type=type(target).__name__ if target is not None else "",
        object_id=str(target.pk) if target is not None and target.pk is not None else "",
        outcome=outcome,
        ip_address=client_ip(request),
        path=(request.get_full_path()[:300] if request is not None else ""),
        detail=canonical(detail),
    )
    with transaction.atomic():
        head = chain_head()
        event.seq = head.seq + 1
        event.prev_hash = head.last_hash
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.seq, head.last_hash = event.seq, event.hash
        head.save(update_fields=["seq", "last_hash"])
    return event


def chain_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head, _ = AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


def verify(batch_size: int = 2000) -> list[Break]:
    """Walk the chain in order and list every place where it does not hold."""
    breaks: list[Break] = []
    expected_prev, expected_seq = GENESIS, 1
    for event in iterate_in_order(batch_size):
        if event.seq != expected_seq:
            breaks.append(
                Break(event.seq, f"sequence jumps from {expected_seq - 1} (rows removed)")
            )
        if event.prev_hash != expected_prev:
            breaks.append(
                Break(event.seq, "does not follow the previous row (removed or inserted)")
            )
        if event_hash(event) != event.hash:
            breaks.append(Break(event.seq, "content changed after it was written"))
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.last_hash) != (expected_seq - 1, expected_prev):
        breaks.append(Break(head.seq, "newest rows removed (chain head ahead of the trail)"))
    return breaks


def iterate_in_order(batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
