from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit import checkpoints
from ketaclinic.audit.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an EMPTY database, then check it: "
        "integrity, migrations current, row counts and audit head as in the manifest, the "
        "hash chain, and the chain against the signed checkpoints."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--accept-rollback",
            action="store_true",
            help="this backup is older than the newest checkpoint and that is intended: "
            "record the rollback in the checkpoint file",
        )

    def handle(self, **options):
        using = options["database"]
        try:
            manifest, findings = restore(options["path"], using)
        except BackupError as error:
            raise CommandError(f"restore FAILED: {error}") from error
        rows = sum(manifest.counts.values())
        self.stdout.write(
            f"restored {rows} rows in {len(manifest.counts)} tables from {options['path']} "
            f"(backup of {manifest.created_at}); integrity, migrations, row counts and the "
            f"audit trail to event {manifest.audit_seq} verified"
        )
        if not findings:
            return
        rollback = findings[0].problem
        if not options["accept_rollback"]:
            raise CommandError(
                f"the restored audit trail is {rollback}. If restoring this older backup was "
                "intended, record it: manage.py audit_checkpoint --accept-rollback"
            )
        point = checkpoints.write_checkpoint(using=using, kind=checkpoints.RESTORE)
        self.stdout.write(f"{rollback}: accepted and recorded at event {point.seq}")
