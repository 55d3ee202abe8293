from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit.backup import BackupError, backup, manifest_path


class Command(BaseCommand):
    help = (
        "Back the database up to PATH (SQLite online backup, or pg_dump's custom format) "
        "with a signed manifest beside it, and check the copy: integrity, migrations, row "
        "counts and the audit trail against its checkpoints. Both files are mode 0600."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, **options):
        target = options["path"]
        try:
            manifest = backup(target, options["database"])
        except BackupError as error:
            raise CommandError(f"backup FAILED: {error}") from error
        rows = sum(manifest.counts.values())
        self.stdout.write(
            f"backed up {rows} rows in {len(manifest.counts)} tables to {target} "
            f"(audit trail to event {manifest.audit_seq}); manifest {manifest_path(target)}"
        )
        if manifest.audit_problems:
            for problem in manifest.audit_problems:
                self.stderr.write(problem)
            raise CommandError(
                "backup written, but the audit trail does not verify "
                f"({len(manifest.audit_problems)} problem(s), also listed in the manifest)"
            )
