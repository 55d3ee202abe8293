"""Shipped protocols stored before their citations were reworded (seed numbers, REFERENCE.md
sections, evidence tags) take the shipped words; doses, rules and a clinic's own wording stay."""

from django.db import migrations

from ketaclinic.protocols.seeding import reword_shipped_citations


def reword(apps, schema_editor):
    reword_shipped_citations(apps.get_model("protocols", "Protocol"))


class Migration(migrations.Migration):
    dependencies = [("protocols", "0002_seed_protocols")]
    operations = [migrations.RunPython(reword, migrations.RunPython.noop)]
