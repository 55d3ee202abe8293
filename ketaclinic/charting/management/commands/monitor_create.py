"""``manage.py monitor_create CHAIR_ID NAME``: register a bedside monitor, print its token once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.charting.devices import monitor_issue
from ketaclinic.scheduling.models import Chair


class Command(BaseCommand):
    help = (
        "Register a bedside monitor in chair CHAIR_ID and print its bearer token. The token is "
        "shown once; only its hash is kept. The monitor writes vitals to the session running "
        "in that chair."
    )

    def add_arguments(self, parser):
        parser.add_argument("chair_id", type=int)
        parser.add_argument("name", help="What the monitor is, e.g. 'Chair 3 Philips MX450'.")

    def handle(self, chair_id: int, name: str, **options):
        chair = Chair.objects.select_related("room").filter(pk=chair_id).first()
        if chair is None:
            raise CommandError(f"no chair with id {chair_id}")
        try:
            device, raw = monitor_issue(chair=chair, name=name)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"monitor {device.pk} '{device.name}' in {chair}; token (shown once):")
        self.stdout.write(raw)
