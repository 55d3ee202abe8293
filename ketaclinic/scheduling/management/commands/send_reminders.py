from django.core.management.base import BaseCommand

from ketaclinic.scheduling import reminders


class Command(BaseCommand):
    help = (
        "Send preparation reminders for visits in the reminder window. Run it from cron or a "
        "systemd timer; it never sends the same reminder twice."
    )

    def handle(self, **options):
        sent = reminders.send_due()
        self.stdout.write(f"sent {sent} reminder(s)")
