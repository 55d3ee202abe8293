"""Seed appointment types and opening hours; install the no-overlap guards (guards.py)."""

from django.db import migrations

from ketaclinic.scheduling import guards, seed


def install_guards(apps, schema_editor):
    for sql in guards.statements(
        schema_editor.connection.vendor, install=True, resources=guards.FIRST_RESOURCES
    ):
        schema_editor.execute(sql, params=None)


def remove_guards(apps, schema_editor):
    for sql in guards.statements(
        schema_editor.connection.vendor, install=False, resources=guards.FIRST_RESOURCES
    ):
        schema_editor.execute(sql, params=None)


def seed_rows(apps, schema_editor):
    seed.seed(
        apps.get_model("scheduling", "AppointmentType"),
        apps.get_model("scheduling", "OpeningHours"),
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_calendar")]
    operations = [
        migrations.RunPython(seed_rows, migrations.RunPython.noop),
        migrations.RunPython(install_guards, remove_guards),
    ]
