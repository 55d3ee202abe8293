"""Seed the clinic's protocol catalog from protocols/data/protocols.yaml, so the database has
protocols right after ``migrate``. Adds missing codes only; never changes a clinic's edits."""

from django.db import migrations

from ketaclinic.protocols.seeding import seed_protocols


def seed(apps, schema_editor):
    seed_protocols(apps.get_model("protocols", "Protocol"))


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
