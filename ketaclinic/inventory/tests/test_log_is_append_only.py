"""The database itself refuses to change or remove a lot or a ledger entry (SQLite and PG)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ketaclinic.audit import database as audit_database
from ketaclinic.inventory import database
from ketaclinic.inventory.models import EntryKind, LedgerEntry, Lot

from .helpers import receive


@pytest.fixture
def entry(nurse):
    return receive(nurse, vials=2)


def test_the_database_refuses_to_update_a_ledger_entry(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity_mg=Decimal(5000))
    entry.refresh_from_db()
    assert entry.quantity_mg == 1000


def test_the_database_refuses_to_delete_a_ledger_entry(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_to_change_or_remove_a_lot(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Lot.objects.filter(pk=entry.lot_id).update(mg_per_vial=Decimal(1000))
    # PROTECT stops the ORM first; raw SQL meets the trigger.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_lot")
    assert Lot.objects.get().mg_per_vial == 500


def test_a_raw_sql_update_of_the_ledger_is_refused_too(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_ledgerentry SET quantity_mg = 1")
    entry.refresh_from_db()
    assert entry.quantity_mg == 1000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncating_the_ledger_is_refused_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE inventory_ledgerentry CASCADE")
    assert LedgerEntry.objects.count() == 1


def test_only_the_flush_purge_window_may_empty_the_log(entry, nurse):
    with transaction.atomic(), database.purge_window("default"):
        LedgerEntry.objects.all().delete()
        Lot.objects.all().delete()
        assert not LedgerEntry.objects.exists()
    receive(nurse, vials=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.all().delete()


def test_the_guards_use_the_audit_trails_purge_window_by_name():
    # flush opens the audit trail's window; if it were renamed there, these guards would
    # lock flush out of the log, so the names are checked against the audit guards' SQL.
    audit_sql = " ".join(
        audit_database.statements("sqlite", install=True)
        + audit_database.statements("postgresql", install=True)
    )
    assert f"{database.PURGE_SQLITE_FUNCTION}()" in audit_sql
    assert f"'{database.PURGE_SETTING}'" in audit_sql
    assert database.purge_window is audit_database.purge_window


def test_the_database_refuses_a_waste_witnessed_by_the_person_wasting(entry, nurse):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            lot=entry.lot,
            kind=EntryKind.WASTE,
            quantity_mg=Decimal(10),
            by=nurse,
            witness=nurse,
            reason="broken",
        )


def test_the_database_refuses_a_waste_without_a_witness(entry, nurse):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            lot=entry.lot, kind=EntryKind.WASTE, quantity_mg=Decimal(10), by=nurse
        )
