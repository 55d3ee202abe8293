"""Backing the database up and restoring it, each checked before it is called done.

A backup is the dump (SQLite's online backup API, or ``pg_dump --format=custom``) and a
manifest beside it: row counts per table, the audit chain's head, when, and the dump's
SHA-256, signed with ``AUDIT_CHAIN_KEY``. A restore goes into an empty database only and is
checked against the manifest: integrity, migrations current, the same rows per table, the
same audit head, the hash chain, and the chain against the signed checkpoints.
Both files are created owner-only (0600): they hold every patient's record.
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.utils import timezone

from . import checkpoints, trail
from .database import owner_only

MANIFEST_FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be trusted; the message says why."""


@dataclass(frozen=True)
class Manifest:
    engine: str
    created_at: str
    dump_sha256: str
    counts: dict[str, int]
    audit_seq: int
    audit_hash: str
    # What audit_verify said about the trail when it was backed up: a backup is still taken
    # (the patients' records matter more), but it says so and the command exits non-zero.
    audit_problems: tuple[str, ...] = ()

    def body(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "engine": self.engine,
            "created_at": self.created_at,
            "dump_sha256": self.dump_sha256,
            "counts": self.counts,
            "audit_head": {"seq": self.audit_seq, "hash": self.audit_hash},
            "audit_problems": list(self.audit_problems),
        }

    def mac(self) -> str:
        message = json.dumps(self.body(), sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(settings.AUDIT_CHAIN_KEY.encode(), message, hashlib.sha256).hexdigest()

    def write(self, path: Path) -> None:
        write_owner_only(path, json.dumps(self.body() | {"mac": self.mac()}, indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            record = json.loads(path.read_text())
            head = record["audit_head"]
            manifest = cls(
                record["engine"],
                record["created_at"],
                record["dump_sha256"],
                {str(k): int(v) for k, v in record["counts"].items()},
                int(head["seq"]),
                str(head["hash"]),
                tuple(str(problem) for problem in record.get("audit_problems", [])),
            )
        except FileNotFoundError as error:
            raise BackupError(
                f"no manifest at {path}: a backup is the dump and its manifest"
            ) from error
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"the manifest {path} is unreadable ({error})") from error
        if not hmac.compare_digest(manifest.mac(), str(record.get("mac", ""))):
            raise BackupError(
                f"the manifest {path} is not signed with this server's AUDIT_CHAIN_KEY "
                "(altered, or from another installation)"
            )
        return manifest


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def write_owner_only(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    owner_only(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- what a database holds -----------------------------------------------------------------


def row_counts(using: str) -> dict[str, int]:
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def audit_head(using: str) -> tuple[int, str]:
    return checkpoints.committed_head(using) or (0, trail.GENESIS)


def unapplied_migrations(using: str) -> list[str]:
    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def is_empty(using: str) -> list[str]:
    """The tables already there (an empty list means the database is empty)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def audit_problems(using: str) -> tuple[list[str], list[checkpoints.Finding]]:
    """Breaks in the hash chain, and the checkpoints' findings, kept apart."""
    breaks = [f"audit row {b.seq}: {b.problem}" for b in trail.verify(using=using)]
    return breaks, checkpoints.check(using)


@contextmanager
def temporary_alias(name: str, *, like: str = "default", **changes) -> Iterator[str]:
    """A second Django connection, like ``like`` but to database ``name``.

    Built by hand rather than added to ``DATABASES``: it lives only for this check.
    """
    alias = f"backup_check_{abs(hash((name, os.getpid())))}"
    config = dict(connections.settings[like]) | {"NAME": name} | changes
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    setattr(connections._connections, alias, wrapper)
    try:
        yield alias
    finally:
        wrapper.close()
        delattr(connections._connections, alias)


# --- backup --------------------------------------------------------------------------------


def backup(target: Path, using: str = "default") -> Manifest:
    """Write ``target`` and its manifest, then check the dump against the manifest."""
    vendor = connections[using].vendor
    target = Path(target)
    pending = unapplied_migrations(using)
    if pending:
        raise BackupError(f"migrations not applied yet: {', '.join(pending)}")
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backup is written for SQLite and PostgreSQL, not {vendor}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:  # created here, owner-only, and only if new
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{target} exists already: a backup never overwrites one") from None
    try:
        manifest = (
            _backup_sqlite(target, using) if vendor == "sqlite" else _backup_postgres(target, using)
        )
    except BaseException:
        # A dump without its manifest would pass for a backup: remove what was half-made.
        target.unlink(missing_ok=True)
        raise
    manifest.write(manifest_path(target))
    return manifest


def _now() -> str:
    return timezone.now().astimezone(UTC).isoformat()


def _backup_sqlite(target: Path, using: str) -> Manifest:
    source = connections[using]
    source.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        source.connection.backup(destination)  # one consistent snapshot, readers not blocked
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        destination.close()
    owner_only(target)
    created_at = _now()
    # Checked from the copy itself, read-only: what the manifest promises is what it holds.
    with temporary_alias(f"file:{target}?mode=ro", like=using, OPTIONS={}) as alias:
        _check_integrity(alias)
        breaks, findings = audit_problems(alias)
        seq, head_hash = audit_head(alias)
        counts = row_counts(alias)
    problems = tuple(breaks + [f.problem for f in findings])
    return Manifest("sqlite", created_at, sha256_of(target), counts, seq, head_hash, problems)


def _backup_postgres(target: Path, using: str) -> Manifest:
    """``pg_dump`` reads the snapshot this transaction exported, so counts match the dump."""
    connection = connections[using]
    tool = postgres_tool("pg_dump", connection)
    with connection.cursor() as cursor, _repeatable_read(connection):
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        breaks, findings = audit_problems(using)
        counts = row_counts(using)
        seq, head_hash = audit_head(using)
        created_at = _now()
        _run(
            [tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            connection.settings_dict,
        )
    owner_only(target)
    problems = tuple(breaks + [f.problem for f in findings])
    return Manifest("postgresql", created_at, sha256_of(target), counts, seq, head_hash, problems)


@contextmanager
def _repeatable_read(connection) -> Iterator[None]:
    """A snapshot transaction outside Django's atomic(), which would start READ COMMITTED."""
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("backup must not run inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            cursor.execute("ROLLBACK")


# --- restore -------------------------------------------------------------------------------


def restore(dump: Path, using: str = "default") -> tuple[Manifest, list[checkpoints.Finding]]:
    """Restore ``dump`` into the empty database ``using`` and check it against its manifest.

    Returns the manifest and the checkpoint findings that remain (a rollback when the
    backup is older than the newest checkpoint); raises ``BackupError`` on anything else.
    """
    dump = Path(dump)
    manifest = Manifest.read(manifest_path(dump))
    if sha256_of(dump) != manifest.dump_sha256:
        raise BackupError(f"{dump} does not match its manifest's SHA-256 (altered or damaged)")
    connection = connections[using]
    if manifest.engine != connection.vendor:
        raise BackupError(f"a {manifest.engine} backup cannot go into {connection.vendor}")
    present = is_empty(using)
    if present:
        raise BackupError(
            f"the database {connection.settings_dict['NAME']} is not empty "
            f"({len(present)} tables, e.g. {present[0]}): restore into a new, empty database"
        )
    if connection.vendor == "sqlite":
        _restore_sqlite(dump, using)
    else:
        _run(
            [
                postgres_tool("pg_restore", connection),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(dump),
            ],
            connection.settings_dict,
        )
    connection.close()  # forget what this connection cached about the empty database
    return manifest, check_restored(manifest, using)


def _restore_sqlite(dump: Path, using: str) -> None:
    connection = connections[using]
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    name = str(connection.settings_dict["NAME"])
    for path in (name, f"{name}-wal", f"{name}-shm"):
        if os.path.exists(path):
            owner_only(path)


def check_restored(manifest: Manifest, using: str) -> list[checkpoints.Finding]:
    """Everything a restore must match; a rollback is returned for the caller to decide."""
    _check_integrity(using)
    pending = unapplied_migrations(using)
    if pending:
        raise BackupError(f"the restored database misses migrations: {', '.join(pending)}")
    counts = row_counts(using)
    differ = [
        f"{table}: {manifest.counts.get(table)} in the backup, {counts.get(table)} restored"
        for table in sorted(set(counts) | set(manifest.counts))
        if counts.get(table) != manifest.counts.get(table)
    ]
    if differ:
        raise BackupError("row counts differ: " + "; ".join(differ))
    head = audit_head(using)
    if head != (manifest.audit_seq, manifest.audit_hash):
        raise BackupError(
            f"the restored audit head is event {head[0]}, the backup's is {manifest.audit_seq}"
        )
    breaks, findings = audit_problems(using)
    serious = [f.problem for f in findings if f.kind != "rolled_back"]
    if breaks or serious:
        raise BackupError(
            "the restored audit trail does not verify: " + "; ".join(breaks + serious)
        )
    return findings


def _check_integrity(using: str) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return  # pg_restore --exit-on-error --single-transaction stops at the first error
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        result = [row[0] for row in cursor.fetchall()]
        cursor.execute("PRAGMA foreign_key_check")
        orphans = cursor.fetchall()
    if result != ["ok"]:
        raise BackupError("SQLite integrity check failed: " + "; ".join(result[:5]))
    if orphans:
        raise BackupError(f"SQLite foreign key check failed: {len(orphans)} orphaned rows")


# --- PostgreSQL client tools ---------------------------------------------------------------


def postgres_tool(name: str, connection) -> str:
    """The client tool of the server's major version if installed, else the newest found.

    Debian's postgresql-client puts each version in /usr/lib/postgresql/<major>/bin; pg_dump
    refuses a server newer than itself.
    """
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    candidates = {}
    for found in glob.glob(f"/usr/lib/postgresql/*/bin/{name}"):
        match = re.search(r"/postgresql/(\d+)/bin/", found)
        if match:
            candidates[int(match.group(1))] = found
    if server_major in candidates:
        return candidates[server_major]
    newer = sorted(major for major in candidates if major >= server_major)
    if newer:
        return candidates[newer[-1]]
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(f"{name} not found: install Debian's postgresql-client-{server_major}")
    return on_path


def _run(command: list[str], settings_dict: dict) -> None:
    environment = os.environ | _libpq_environment(settings_dict)
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:2000]}")


def _libpq_environment(settings_dict: dict) -> dict[str, str]:
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": (settings_dict.get("OPTIONS") or {}).get("sslmode"),
    }
    return {key: str(value) for key, value in values.items() if value}
