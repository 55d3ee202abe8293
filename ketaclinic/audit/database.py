"""Database-level guards that make audit rows append-only on SQLite and PostgreSQL.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). The chain head may only
move forward by one, onto an event row that exists with that hash: that is the one update
the append path makes, so rewinding the head to hide removed rows is refused too. The one exception is
``manage.py flush`` (used by test teardown to empty a database), which opens a purge window
for its own connection: a PostgreSQL session setting, or on SQLite an application function
that the triggers call and that a plain ``sqlite3`` shell does not have, so a shell cannot
delete rows either.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator

from django.db import connections
from django.db.backends.signals import connection_created

TABLE = "audit_auditevent"
HEAD_TABLE = "audit_auditchainhead"
_purge = threading.local()

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT ketaclinic_audit_purge()
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION ketaclinic_audit_append_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP IN ('DELETE', 'TRUNCATE')
         AND current_setting('ketaclinic.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION ketaclinic_audit_append_only()""",
    f"""CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION ketaclinic_audit_append_only()""",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_event_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS ketaclinic_audit_append_only()",
]


HEAD_MOVES_FORWARD = (
    f"NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS "
    f"(SELECT 1 FROM {TABLE} WHERE seq = NEW.seq AND hash = NEW.last_hash)"
)
HEAD_UPDATE_REFUSED = "audit chain head moves only forward onto an appended event: UPDATE refused"

SQLITE_HEAD_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON {HEAD_TABLE}
    WHEN NOT ({HEAD_MOVES_FORWARD})
    BEGIN SELECT RAISE(ABORT, '{HEAD_UPDATE_REFUSED}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON {HEAD_TABLE}
    WHEN NOT ketaclinic_audit_purge()
    BEGIN SELECT RAISE(ABORT, 'audit chain head is append-only: DELETE refused'); END""",
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers.
    f"""CREATE TRIGGER IF NOT EXISTS audit_head_no_replace BEFORE INSERT ON {HEAD_TABLE}
    WHEN EXISTS (SELECT 1 FROM {HEAD_TABLE})
    BEGIN SELECT RAISE(ABORT, 'audit chain head exists already: INSERT refused'); END""",
]
SQLITE_HEAD_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_no_replace",
]

# The UPDATE check runs AFTER the row changes: the append path inserts the event and moves
# the head in one statement (a data-modifying WITH), and only an AFTER trigger sees the
# event row that statement inserted.
POSTGRES_HEAD_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION ketaclinic_audit_head_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF {HEAD_MOVES_FORWARD} THEN RETURN NULL; END IF;
        RAISE EXCEPTION '{HEAD_UPDATE_REFUSED}';
      END IF;
      IF current_setting('ketaclinic.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'audit chain head is append-only: % refused', TG_OP;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_head_forward_only AFTER UPDATE ON {HEAD_TABLE}
    FOR EACH ROW EXECUTE FUNCTION ketaclinic_audit_head_guard()""",
    f"""CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON {HEAD_TABLE}
    FOR EACH ROW EXECUTE FUNCTION ketaclinic_audit_head_guard()""",
    f"""CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON {HEAD_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION ketaclinic_audit_head_guard()""",
]
POSTGRES_HEAD_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_head_forward_only ON {HEAD_TABLE}",
    f"DROP TRIGGER IF EXISTS audit_head_no_delete ON {HEAD_TABLE}",
    f"DROP TRIGGER IF EXISTS audit_head_no_truncate ON {HEAD_TABLE}",
    "DROP FUNCTION IF EXISTS ketaclinic_audit_head_guard()",
]


def statements(vendor: str, *, install: bool) -> list[str]:
    """The events table's guards (migration 0002)."""
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    raise NotImplementedError(f"audit guards are written for SQLite and PostgreSQL, not {vendor}")


def head_statements(vendor: str, *, install: bool) -> list[str]:
    """The chain head's guards (migration 0003)."""
    if vendor == "sqlite":
        return SQLITE_HEAD_INSTALL if install else SQLITE_HEAD_REMOVE
    if vendor == "postgresql":
        return POSTGRES_HEAD_INSTALL if install else POSTGRES_HEAD_REMOVE
    raise NotImplementedError(f"audit guards are written for SQLite and PostgreSQL, not {vendor}")


def purge_allowed() -> bool:
    return bool(getattr(_purge, "open", False))


def register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "ketaclinic_audit_purge", 0, lambda: int(purge_allowed()), deterministic=False
        )
        # ``INSERT OR REPLACE`` deletes the row it replaces; SQLite fires DELETE triggers for
        # that only with recursive triggers on. Without it a replace would slip past the
        # append-only guards of the trail and the chain head.
        connection.connection.execute("PRAGMA recursive_triggers = ON")


def restrict_sqlite_file_mode(sender, connection, **kwargs) -> None:
    """Keep the SQLite database and its WAL files readable by the server's user only.

    SQLite creates them with the process umask (often 0644): patient data for every local
    account. Checked on each new connection, so a file made by an older version is fixed too.
    """
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        owner_only(path)


def owner_only(path: str | os.PathLike) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_IMODE(mode) & 0o077:
        os.chmod(path, 0o600)


def install_sqlite_guard() -> None:
    connection_created.connect(register_sqlite_function, dispatch_uid="ketaclinic_audit_purge")
    connection_created.connect(restrict_sqlite_file_mode, dispatch_uid="ketaclinic_sqlite_mode")


@contextlib.contextmanager
def purge_window(using: str) -> Iterator[None]:
    """Let this connection delete audit rows for the duration (database flush only)."""
    connection = connections[using]
    _purge.open = True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET ketaclinic.audit_purge = 'on'")
    try:
        yield
    finally:
        _purge.open = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("RESET ketaclinic.audit_purge")
