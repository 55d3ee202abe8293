"""Database-level guards that make the controlled-substance log append-only.

Lots (the receiving record) and ledger entries are never changed or removed: triggers
refuse UPDATE and DELETE on SQLite and PostgreSQL, and TRUNCATE on PostgreSQL, so neither
the application, the admin, nor someone with a database shell can rewrite the log. A
mistake is corrected by a new entry (wasting a wrongly received lot, say), as on paper.

The one exception is the purge window of ``manage.py flush`` (test teardown), which the
audit trail already defines in ``ketaclinic.audit.database``: these triggers honour that
same window rather than opening a second one, so ``audit/management/commands/flush.py``
empties both tables with no change. On SQLite the window is the application function
``ketaclinic_audit_purge()`` (a plain ``sqlite3`` shell does not have it, so a DELETE there
fails); on PostgreSQL it is the session setting ``ketaclinic.audit_purge``.
"""

from __future__ import annotations

from ketaclinic.audit.database import purge_window

__all__ = ["GUARDED_TABLES", "PURGE_SETTING", "PURGE_SQLITE_FUNCTION", "purge_window", "statements"]

# The audit trail's purge window (ketaclinic/audit/database.py); a test checks these names
# against the audit guards so a rename there cannot silently lock flush out of these tables.
PURGE_SQLITE_FUNCTION = "ketaclinic_audit_purge"
PURGE_SETTING = "ketaclinic.audit_purge"

GUARDED_TABLES = ("inventory_lot", "inventory_ledgerentry")
MESSAGE = "the controlled-substance log is append-only"


def _sqlite_install(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
        WHEN NOT {PURGE_SQLITE_FUNCTION}()
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END""",
    ]


def _sqlite_remove(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
    ]


POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION ketaclinic_inventory_append_only()
RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP;
END $$ LANGUAGE plpgsql"""


def _postgres_install(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION ketaclinic_inventory_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION ketaclinic_inventory_append_only()""",
    ]


def _postgres_remove(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def statements(vendor: str, *, install: bool) -> list[str]:
    """SQL that installs (or removes) the guards on ``vendor``."""
    if vendor == "sqlite":
        make = _sqlite_install if install else _sqlite_remove
        return [sql for table in GUARDED_TABLES for sql in make(table)]
    if vendor == "postgresql":
        if install:
            return [POSTGRES_FUNCTION] + [
                sql for table in GUARDED_TABLES for sql in _postgres_install(table)
            ]
        return [sql for table in GUARDED_TABLES for sql in _postgres_remove(table)] + [
            "DROP FUNCTION IF EXISTS ketaclinic_inventory_append_only()"
        ]
    raise NotImplementedError(
        f"inventory guards are written for SQLite and PostgreSQL, not {vendor}"
    )
