"""The chain head only moves forward onto an appended event (see ketaclinic/audit/database.py)."""

from django.db import migrations

from ketaclinic.audit.database import head_statements


def install(apps, schema_editor):
    for sql in head_statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    for sql in head_statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, remove)]
