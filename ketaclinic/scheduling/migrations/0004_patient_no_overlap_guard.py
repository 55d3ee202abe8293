"""Install the patient no-overlap guard: one patient is never in two visits at once.

Cancelled and no-show visits do not count (guards.HOLDING_SQL). Existing overlaps would make
the guard fail to install, so they are named first with what to do about them.
"""

from django.db import migrations

from ketaclinic.scheduling import guards


def refuse_existing_overlaps(schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(guards.overlapping_pairs_sql("patient"))
        pairs = cursor.fetchall()[:20]
    if pairs:
        listed = ", ".join(f"{a} and {b}" for a, b in pairs)
        raise RuntimeError(
            "Cannot install the patient no-overlap guard: these appointments of one patient "
            f"overlap: {listed}. Cancel or move one of each pair, then migrate again."
        )


def install_guard(apps, schema_editor):
    refuse_existing_overlaps(schema_editor)
    for sql in guards.statements(
        schema_editor.connection.vendor, install=True, resources=guards.PATIENT_RESOURCES
    ):
        schema_editor.execute(sql, params=None)


def remove_guard(apps, schema_editor):
    for sql in guards.statements(
        schema_editor.connection.vendor, install=False, resources=guards.PATIENT_RESOURCES
    ):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_seed_and_no_overlap_guards")]
    operations = [migrations.RunPython(install_guard, remove_guard)]
