from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit import checkpoints, trail


class Command(BaseCommand):
    help = (
        "Sign the audit chain's head into the checkpoint file (run from cron every minute). "
        "With --accept-rollback, record that the trail was knowingly restored to an older "
        "point, after a restore from backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--accept-rollback",
            action="store_true",
            help="the database was restored from an older backup on purpose",
        )

    def handle(self, **options):
        using = options["database"]
        if options["accept_rollback"]:
            self.accept_rollback(using)
            return
        point = checkpoints.write_checkpoint(using=using)
        if point is None:
            self.stdout.write("no new audit events since the last checkpoint")
        else:
            self.stdout.write(f"checkpoint at event {point.seq} written to {checkpoints.path()}")

    def accept_rollback(self, using: str) -> None:
        """Only a clean chain that is merely behind the checkpoints may be accepted."""
        breaks = trail.verify(using=using)
        findings = checkpoints.check(using)
        others = [f for f in findings if f.kind != "rolled_back"]
        if breaks or others:
            for problem in [b.problem for b in breaks] + [f.problem for f in others]:
                self.stderr.write(problem)
            raise CommandError("refusing to accept a rollback of a trail that does not verify")
        if not findings:
            self.stdout.write("the trail is not behind its checkpoints: nothing to accept")
            return
        point = checkpoints.write_checkpoint(using=using, kind=checkpoints.RESTORE)
        if point is None:
            raise CommandError("the restored audit trail is empty: nothing to anchor")
        self.stdout.write(f"{findings[0].problem}: accepted at event {point.seq}")
