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
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.web.client import client_address

from . import checkpoints
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
    """The client's address, not a reverse proxy's (``BEHIND_PROXY``, ``PROXY_COUNT``)."""
    if request is None:
        return None
    return client_address(request)


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
    # Joins the caller's transaction without a savepoint: an event that cannot be written
    # must undo what it records, and a savepoint per event costs two round trips.
    with transaction.atomic(savepoint=False):
        append(event)
    return event


def reject(
    request, action: str, error: ValidationError, patient_id: int | None = None, *, target=None
):
    """Record a refused write as an ``invalid`` event naming the errors, then raise ``error``.

    Every service refuses bad input this way, so the trail shows what was refused and why
    while nothing of the write is stored.
    """
    record(
        action=action,
        request=request,
        patient_id=patient_id,
        target=target,
        outcome=Outcome.INVALID,
        detail={"errors": error.message_dict if hasattr(error, "error_dict") else error.messages},
    )
    raise error


def audit_invalid_form(request, form, action: str, patient_id: int | None = None) -> None:
    """A rejected form leaves an ``invalid`` audit row, as a rejected API call does."""
    if request.method == "POST" and form.errors:
        record(
            action=action,
            request=request,
            patient_id=patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": form.errors.get_json_data()},
        )


# Every read and write of patient data passes through ``append``, so its statements are
# written once and sent as they are: the ORM would compile each anew on every call, which
# costs more than running them.
HEAD = AuditChainHead._meta.db_table
EVENTS = AuditEvent._meta.db_table
EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def append(event: AuditEvent) -> None:
    """Chain ``event`` after the newest event and insert it (inside a transaction).

    The head moves only after the event row exists: the database refuses any other move
    of the head (see ``database.py``).
    """
    newest_seq, event.prev_hash = lock_chain_head()
    event.seq = newest_seq + 1
    event.hash = event_hash(event)
    insert, finish = append_statements(connection.vendor)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in EVENT_FIELDS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one round trip for both statements
            cursor.execute(
                f"WITH event AS ({insert}) {finish} RETURNING (SELECT id FROM event)",
                [*values, event.seq, event.hash],
            )
            event.pk = cursor.fetchone()[0]
        else:
            cursor.execute(insert, values)
            event.pk = cursor.fetchone()[0]
            cursor.execute(finish, [event.seq, event.hash])
    event._state.adding, event._state.db = False, connection.alias
    checkpoints.after_append(event.seq)


@cache
def append_statements(vendor: str) -> tuple[str, str]:
    """The event's INSERT and the head's UPDATE, written once per database engine."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in EVENT_FIELDS)
    insert = (
        f"INSERT INTO {quote(EVENTS)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(EVENT_FIELDS))}) RETURNING {quote('id')}"
    )
    return insert, f"UPDATE {quote(HEAD)} SET seq = %s, last_hash = %s WHERE id = 1"


@cache
def head_statement(vendor: str) -> str:
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    return f"SELECT seq, last_hash FROM {connection.ops.quote_name(HEAD)} WHERE id = 1{lock}"


def statements_per_event() -> int:
    """SQL statements one event costs: tests pinning a page's queries count with it."""
    return 2 if connection.vendor == "postgresql" else 3


def lock_chain_head() -> tuple[int, str]:
    """The newest sequence number and hash, held until the transaction ends.

    ``FOR UPDATE`` queues concurrent appenders on PostgreSQL; SQLite's IMMEDIATE
    transactions hold the whole database already.
    """
    sql = head_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        if row is None:  # the first event of a new database
            AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            cursor.execute(sql)
            row = cursor.fetchone()
    return row[0], row[1]


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


def verify(batch_size: int = 2000, using: str = "default") -> list[Break]:
    """Walk the chain in order and list every place where it does not hold."""
    breaks: list[Break] = []
    expected_prev, expected_seq = GENESIS, 1
    for event in iterate_in_order(batch_size, using):
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
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    if head is not None and (head.seq, head.last_hash) != (expected_seq - 1, expected_prev):
        breaks.append(Break(head.seq, "newest rows removed (chain head ahead of the trail)"))
    return breaks


def iterate_in_order(batch_size: int, using: str = "default") -> Iterator[AuditEvent]:
    last = 0
    events = AuditEvent.objects.using(using)
    while True:
        batch = list(events.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
