"""SQLite: confirmed charge lines stay unchangeable, but the delete trigger goes.

Django empties an SQLite test database with DELETE (PostgreSQL uses TRUNCATE, which row
triggers do not see), so the delete trigger made every transactional test that confirmed a
line fail to clean up. No code path deletes charge lines; on PostgreSQL the trigger still
refuses both update and delete.
"""

from __future__ import annotations

from django.db import migrations

DROP = "DROP TRIGGER IF EXISTS billing_chargeline_confirmed_no_delete"
CREATE = """CREATE TRIGGER billing_chargeline_confirmed_no_delete BEFORE DELETE ON billing_chargeline
    WHEN OLD.status = 'confirmed'
    BEGIN SELECT RAISE(ABORT, 'a confirmed charge line cannot be deleted'); END"""


def _on_sqlite(statement: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_charges_fee_schedule_payments")]

    operations = [migrations.RunPython(_on_sqlite(DROP), _on_sqlite(CREATE))]
