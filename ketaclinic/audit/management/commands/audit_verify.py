from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit non-zero if any row was changed, removed or inserted."

    def handle(self, **options):
        breaks = trail.verify()
        if breaks:
            for item in breaks:
                self.stderr.write(f"audit row {item.seq}: {item.problem}")
            raise CommandError(f"audit trail verification FAILED at {len(breaks)} place(s)")
        self.stdout.write(f"audit trail intact: {AuditEvent.objects.count()} events verified")
