"""Database guards that refuse overlapping appointments on one chair, one staff lane or
one patient (a person is never in two visits at once).

PostgreSQL: exclusion constraints over ``tstzrange(starts_at, ends_at)`` (btree_gist).
SQLite: triggers that abort an insert or update that would overlap; SQLite has no exclusion
constraints, and its IMMEDIATE transactions serialise writers so the check cannot race.
Either way the error names the guard, which ``services`` turns into a 409.
"""

from __future__ import annotations

from .models import HOLDING

TABLE = "scheduling_appointment"
# Installed by migration 0003 (chair, lane) and 0004 (patient); each migration names its own.
FIRST_RESOURCES = ("chair", "lane")
PATIENT_RESOURCES = ("patient",)
RESOURCES = FIRST_RESOURCES + PATIENT_RESOURCES
HOLDING_SQL = ", ".join(f"'{status}'" for status in HOLDING)


def guard_name(resource: str) -> str:
    return f"appointment_{resource}_no_overlap"


def postgres_install(resources: tuple[str, ...]) -> list[str]:
    statements = ["CREATE EXTENSION IF NOT EXISTS btree_gist"]
    for resource in resources:
        statements.append(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {guard_name(resource)} EXCLUDE USING gist "
            f"({resource}_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE ({resource}_id IS NOT NULL AND status IN ({HOLDING_SQL}))"
        )
    return statements


def postgres_remove(resources: tuple[str, ...]) -> list[str]:
    return [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {guard_name(r)}" for r in resources]


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


def sqlite_install(resources: tuple[str, ...]) -> list[str]:
    return [sqlite_trigger(r, event) for r in resources for event in ("INSERT", "UPDATE")]


def sqlite_remove(resources: tuple[str, ...]) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {guard_name(r)}_{event}"
        for r in resources
        for event in ("insert", "update")
    ]


def statements(vendor: str, *, install: bool, resources: tuple[str, ...]) -> list[str]:
    if vendor == "postgresql":
        return postgres_install(resources) if install else postgres_remove(resources)
    if vendor == "sqlite":
        return sqlite_install(resources) if install else sqlite_remove(resources)
    raise NotImplementedError(f"booking guards are written for SQLite and PostgreSQL, not {vendor}")


def overlapping_pairs_sql(resource: str) -> str:
    """Pairs of holding appointments that already overlap on ``resource`` (before a guard)."""
    return (
        f"SELECT a.id, b.id FROM {TABLE} a JOIN {TABLE} b ON a.{resource}_id = b.{resource}_id "
        f"AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
        f"WHERE a.status IN ({HOLDING_SQL}) AND b.status IN ({HOLDING_SQL})"
    )
