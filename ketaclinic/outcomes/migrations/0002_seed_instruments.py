"""Seed the instrument definitions from outcomes/instruments/*.yaml, so the database has
them right after ``migrate``. Adds missing codes only; never changes a clinic's edits."""

from django.db import migrations

from ketaclinic.outcomes.seeding import seed_instruments


def seed(apps, schema_editor):
    seed_instruments(apps.get_model("outcomes", "InstrumentDefinition"))


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
