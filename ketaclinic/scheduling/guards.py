"""Database guards that refuse overlapping appointments on one chair or one staff lane.

PostgreSQL: exclusion constraints over ``tstzrange(starts_at, ends_at)`` (btree_gist).
SQLite: triggers that abort an insert or update that would overlap; SQLite has no exclusion
constraints, and its IMMEDIATE transactions serialise writers so the check cannot race.
Either way the error names the guard, which ``services`` turns into a 409.
"""

from __future__ import annotations

from .models import HOLDING

TABLE = "scheduling_appointment"
RESOURCES = ("chair", "lane")
HOLDING_SQL = ", ".join(f"'{status}'" for status in HOLDING)


def guard_name(resource: str) -> str:
    return f"appointment_{resource}_no_overlap"


def postgres_install() -> list[str]:
    statements = ["CREATE EXTENSION IF NOT EXISTS btree_gist"]
    for resource in RESOURCES:
        statements.append(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {guard_name(resource)} EXCLUDE USING gist "
            f"({resource}_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE ({resource}_id IS NOT NULL AND status IN ({HOLDING_SQL}))"
        )
    return statements


def postgres_remove() -> list[str]:
    return [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {guard_name(r)}" for r in RESOURCES]


def sqlite_trigger(resource: str, event: str) -> str:
    same_row = "AND other.id <> NEW.id" if event == "UPDATE" else ""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {guard_name(resource)}_{event.lower()} "
        f"BEFORE {event} ON {TABLE} "
        f"WHEN NEW.{resource}_id IS NOT NULL AND NEW.status IN ({HOLDING_SQL}) AND EXISTS ("
        f"SELECT 1 FROM {TABLE} AS other WHERE other.{resource}_id = NEW.{resource}_id "
        f"AND other.status IN ({HOLDING_SQL}) {same_row} "
        f"AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at) "
        f"BEGIN SELECT RAISE(ABORT, '{guard_name(resource)}'); END"
    )


def sqlite_install() -> list[str]:
    return [sqlite_trigger(r, event) for r in RESOURCES for event in ("INSERT", "UPDATE")]


def sqlite_remove() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {guard_name(r)}_{event}"
        for r in RESOURCES
        for event in ("insert", "update")
    ]


def statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return postgres_install() if install else postgres_remove()
    if vendor == "sqlite":
        return sqlite_install() if install else sqlite_remove()
    raise NotImplementedError(f"booking guards are written for SQLite and PostgreSQL, not {vendor}")
