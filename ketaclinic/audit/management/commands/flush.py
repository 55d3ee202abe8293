"""``flush`` that may empty the append-only audit table.

Django's test framework empties databases with this command between transactional tests;
only here does the audit trail allow rows to go.
"""

from django.core.management.commands.flush import Command as DjangoFlush

from ketaclinic.audit.database import purge_window


class Command(DjangoFlush):
    def handle(self, **options):
        with purge_window(options["database"]):
            return super().handle(**options)
