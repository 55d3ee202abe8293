"""Make the controlled-substance log append-only in the database (see inventory/database.py)."""

from django.db import migrations

from ketaclinic.inventory.database import statements


def install(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial"), ("audit", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, remove)]
