"""Database-level guards that make audit rows append-only on SQLite and PostgreSQL.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). The one exception is
``manage.py flush`` (used by test teardown to empty a database), which opens a purge window
for its own connection: a PostgreSQL session setting, or on SQLite an application function
that the triggers call and that a plain ``sqlite3`` shell does not have, so a shell cannot
delete rows either.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import connections
from django.db.backends.signals import connection_created

TABLE = "audit_auditevent"
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


def statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    raise NotImplementedError(f"audit guards are written for SQLite and PostgreSQL, not {vendor}")


def purge_allowed() -> bool:
    return bool(getattr(_purge, "open", False))


def register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "ketaclinic_audit_purge", 0, lambda: int(purge_allowed()), deterministic=False
        )


def install_sqlite_guard() -> None:
    connection_created.connect(register_sqlite_function, dispatch_uid="ketaclinic_audit_purge")


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
