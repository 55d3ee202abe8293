"""``manage.py monitor_revoke DEVICE_ID``: the monitor's token stops working at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.charting.devices import monitor_revoke
from ketaclinic.charting.models import MonitorDevice


class Command(BaseCommand):
    help = "Revoke a bedside monitor's token (its id is printed by monitor_create)."

    def add_arguments(self, parser):
        parser.add_argument("device_id", type=int)

    def handle(self, device_id: int, **options):
        device = MonitorDevice.objects.filter(pk=device_id).first()
        if device is None:
            raise CommandError(f"no monitor with id {device_id}")
        if monitor_revoke(device=device):
            self.stdout.write(f"revoked monitor {device.pk} '{device.name}'")
        else:
            self.stdout.write(f"monitor {device.pk} was already revoked")
