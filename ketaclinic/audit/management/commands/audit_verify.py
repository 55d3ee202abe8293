from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit import checkpoints, trail
from ketaclinic.audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain and compare it with the signed checkpoints; "
        "exit non-zero if any row was changed, removed or inserted, the newest rows were "
        "cut off, the table was emptied, or a checkpoint is forged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, **options):
        problems = verify_all(options["database"])
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"audit trail verification FAILED at {len(problems)} place(s)")
        count = AuditEvent.objects.using(options["database"]).count()
        anchored = checkpoints.last_checkpoint()
        self.stdout.write(f"audit trail intact: {count} events verified")
        if anchored is None:
            self.stdout.write(
                f"no signed checkpoints in {checkpoints.path()}: cutting off the newest rows "
                "or emptying the table could not be detected"
            )
        else:
            self.stdout.write(f"matches the checkpoints (newest: event {anchored.seq})")


def verify_all(using: str = "default") -> list[str]:
    """The chain's breaks and the checkpoints' findings, as sentences."""
    problems = [f"audit row {item.seq}: {item.problem}" for item in trail.verify(using=using)]
    problems += [finding.problem for finding in checkpoints.check(using)]
    return problems
