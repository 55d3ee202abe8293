"""``manage.py prune_ingestion_keys [--hours 24]``: forget monitors' old idempotency keys.

Run it daily (cron or a systemd timer beside the server); see ``devices.ingestion_keys_prune``.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.charting.devices import ingestion_keys_prune


class Command(BaseCommand):
    help = "Delete bedside monitors' idempotency keys older than --hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, hours: int, **options):
        if hours < 1:
            raise CommandError("--hours must be at least 1: a monitor may still be retrying")
        pruned = ingestion_keys_prune(older_than=dt.timedelta(hours=hours))
        self.stdout.write(f"pruned {pruned} idempotency keys older than {hours} h")
