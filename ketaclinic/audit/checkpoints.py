"""Signed checkpoints that anchor the audit chain outside the database it protects.

The hash chain finds a row changed, removed or inserted in the middle, but someone with
write access to the database can cut the newest rows off and rewind the chain head, or
empty the table, and the chain that is left still holds. A checkpoint, the newest event's
sequence number and hash with the time, signed with ``AUDIT_CHAIN_KEY``, is appended to a
file the database cannot reach (``AUDIT_CHECKPOINT_PATH``, one JSON line each) and, when
``AUDIT_CHECKPOINT_LOG`` is on, to the logger ``ketaclinic.audit.checkpoint`` so it can be
shipped to another host. ``manage.py audit_verify`` checks the table against every line.

A checkpoint is written after the commit that appends every ``AUDIT_CHECKPOINT_EVERY``-th
event, and after the first commit once ``AUDIT_CHECKPOINT_SECONDS`` have passed since the
last one; ``manage.py audit_checkpoint`` run from cron every minute covers a quiet process.
The append path only compares two numbers; the file is written after the commit, from the
head as committed, so a rolled-back event never reaches a checkpoint.

A ``restore`` line records that an operator accepted a rollback (a restore from an older
backup): checkpoints before it beyond its event no longer count.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

logger = logging.getLogger("ketaclinic.audit.checkpoint")
failures = logging.getLogger("ketaclinic.audit")

CHECKPOINT = "checkpoint"
RESTORE = "restore"
MAC_DOMAIN = "ketaclinic-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    kind: str
    seq: int
    hash: str
    at: str
    line: int = 0

    def mac(self) -> str:
        message = "\x1f".join([MAC_DOMAIN, self.kind, str(self.seq), self.hash, self.at])
        key = settings.AUDIT_CHAIN_KEY.encode()
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def as_line(self) -> str:
        record = {"kind": self.kind, "seq": self.seq, "hash": self.hash, "at": self.at}
        return json.dumps(record | {"mac": self.mac()}, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class Finding:
    """One way the table disagrees with the checkpoints; ``kind`` says which."""

    kind: str  # "forged", "unreadable", "wiped", "rolled_back", "missing", "rewritten"
    seq: int
    problem: str


# --- writing ---------------------------------------------------------------------------


class _Progress:
    """What this process last wrote, so the append path decides without touching the file."""

    seq: int | None = None
    written_at: float | None = None


_progress = _Progress()


def path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_PATH)


def forget(**kwargs) -> None:
    """Start afresh (another checkpoint file, or a test)."""
    _progress.seq = None
    _progress.written_at = None


def _on_setting_changed(setting: str, **kwargs) -> None:
    if setting.startswith("AUDIT_"):
        forget()


setting_changed.connect(_on_setting_changed, dispatch_uid="audit_checkpoint_settings")


def after_append(seq: int) -> None:
    """Called for each appended event inside its transaction: cheap unless one is due."""
    if seq % settings.AUDIT_CHECKPOINT_EVERY == 0 or _time_is_due():
        request_after_commit()


def _time_is_due() -> bool:
    if _progress.written_at is None:
        _progress.written_at = _last_written_time()
    return time.time() - _progress.written_at >= settings.AUDIT_CHECKPOINT_SECONDS


def _last_written_time() -> float:
    """When the file's newest line was written (read once per process)."""
    newest = last_checkpoint()
    if newest is None:
        return 0.0
    try:
        return datetime.fromisoformat(newest.at).timestamp()
    except ValueError:
        return 0.0


def request_after_commit() -> None:
    """Ask for one checkpoint after this transaction commits (once, however many events)."""
    if any(entry[1] is write_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(write_after_commit, robust=True)


def write_after_commit() -> None:
    try:
        write_checkpoint()
    except Exception:
        # The events are committed; a checkpoint that could not be written must not turn
        # the request into an error. The next one, or cron's, covers them; until the next
        # one is due this process does not retry (one log line a minute, not one a request).
        _progress.written_at = time.time()
        failures.exception("audit checkpoint could not be written to %s", path())


def committed_head(using: str = "default") -> tuple[int, str] | None:
    row = AuditChainHead.objects.using(using).filter(pk=1).values_list("seq", "last_hash")
    head = row.first()
    return None if head is None or head[0] == 0 else head


def write_checkpoint(
    *, using: str = "default", kind: str = CHECKPOINT, only_if_moved: bool = True
) -> Checkpoint | None:
    """Sign the committed chain head and append it; None if there is nothing new."""
    head = committed_head(using)
    if head is None:
        return None
    if only_if_moved and kind == CHECKPOINT and head[0] == _known_seq():
        _progress.written_at = time.time()
        return None
    point = Checkpoint(kind, head[0], head[1], timezone.now().astimezone(UTC).isoformat())
    append_line(point.as_line())
    _progress.seq, _progress.written_at = point.seq, time.time()
    if settings.AUDIT_CHECKPOINT_LOG:
        logger.info(point.as_line().strip())
    return point


def _known_seq() -> int | None:
    if _progress.seq is None:
        newest = last_checkpoint()
        _progress.seq = newest.seq if newest is not None else None
    return _progress.seq


def append_line(line: str) -> None:
    """Append and fsync one line; the file is created owner-only."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        os.write(fd, line.encode())  # one write: lines from several processes do not mix
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # the new directory entry must survive a crash too
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --- reading and checking ------------------------------------------------------------------


def read(findings: list[Finding] | None = None) -> list[Checkpoint]:
    """Every line in file order; lines that do not parse or verify go to ``findings``."""
    findings = findings if findings is not None else []
    try:
        text = path().read_text()
    except FileNotFoundError:
        return []
    points = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        point, mac = _parse(raw, number)
        if point is None:
            findings.append(Finding("unreadable", 0, f"checkpoint line {number} is unreadable"))
        elif not hmac.compare_digest(point.mac(), mac):
            findings.append(
                Finding(
                    "forged",
                    point.seq,
                    f"checkpoint line {number} (event {point.seq}, {point.at}) is forged: "
                    "its signature does not match AUDIT_CHAIN_KEY",
                )
            )
        else:
            points.append(point)
    return points


def _parse(raw: str, number: int) -> tuple[Checkpoint | None, str]:
    try:
        record = json.loads(raw)
        point = Checkpoint(
            str(record["kind"]), int(record["seq"]), str(record["hash"]), str(record["at"]), number
        )
        return point, str(record["mac"])
    except (ValueError, KeyError, TypeError):
        return None, ""


def last_checkpoint() -> Checkpoint | None:
    """The newest valid line, read from the file's tail (the file only grows)."""
    try:
        with path().open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 8192))
            tail = file.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for raw in reversed(tail):
        point, mac = _parse(raw, 0)
        if point is not None and hmac.compare_digest(point.mac(), mac):
            return point
    return None


def in_force(points: list[Checkpoint]) -> list[Checkpoint]:
    """Drop checkpoints beyond an accepted rollback that came after them."""
    kept: list[Checkpoint] = []
    for point in points:
        if point.kind == RESTORE:
            kept = [p for p in kept if p.seq <= point.seq]
        kept.append(point)
    return kept


def check(using: str = "default") -> list[Finding]:
    """Compare the events table with every signed checkpoint."""
    findings: list[Finding] = []
    points = in_force(read(findings))
    if not points:
        return findings
    events = AuditEvent.objects.using(using)
    newest_seq = events.aggregate(newest=Max("seq"))["newest"] or 0
    latest = max(points, key=lambda p: p.seq)
    if newest_seq == 0:
        findings.append(
            Finding(
                "wiped",
                0,
                f"wiped: the audit trail is empty, but a checkpoint recorded event "
                f"{latest.seq} at {latest.at}",
            )
        )
        return findings
    if newest_seq < latest.seq:
        findings.append(
            Finding(
                "rolled_back",
                newest_seq,
                f"rolled back to event {newest_seq} "
                f"(checkpoint at event {latest.seq}, time {latest.at})",
            )
        )
    findings.extend(_compare_hashes(events, [p for p in points if p.seq <= newest_seq]))
    return findings


def _compare_hashes(events, points: list[Checkpoint]) -> list[Finding]:
    findings = []
    for start in range(0, len(points), 500):
        chunk = points[start : start + 500]
        stored = dict(events.filter(seq__in={p.seq for p in chunk}).values_list("seq", "hash"))
        for point in chunk:
            if point.seq not in stored:
                findings.append(
                    Finding(
                        "missing",
                        point.seq,
                        f"event {point.seq} is missing (checkpoint of {point.at})",
                    )
                )
            elif stored[point.seq] != point.hash:
                findings.append(
                    Finding(
                        "rewritten",
                        point.seq,
                        f"event {point.seq} differs from its checkpoint of {point.at} "
                        "(trail rewritten from there on)",
                    )
                )
    return findings
