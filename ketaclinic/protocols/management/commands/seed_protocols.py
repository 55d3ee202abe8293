from django.core.management.base import BaseCommand
from django.db import transaction

from ketaclinic.audit import trail
from ketaclinic.protocols.seeding import seed_protocols


class Command(BaseCommand):
    help = (
        "Add shipped protocols (protocols/data/protocols.yaml) missing from the clinic's "
        "catalog. Never changes a protocol the clinic already has."
    )

    def handle(self, **options):
        with transaction.atomic():
            created = seed_protocols()
            if created:
                trail.record(
                    action="protocol.seed",
                    actor_username="seed_protocols",
                    detail={"codes": created},
                )
        self.stdout.write(f"protocols added: {', '.join(created) if created else 'none'}")
