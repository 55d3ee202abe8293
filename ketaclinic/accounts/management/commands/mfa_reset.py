"""Remove a person's second factor (lost phone and recovery codes), audited."""

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.accounts.mfa import reset_second_factor
from ketaclinic.accounts.models import User


class Command(BaseCommand):
    help = (
        "Remove USERNAME's authenticator, passkeys and recovery codes and lift a second-factor "
        "lock, after checking who they are in person. They set up a new one at next sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why, for the audit trail.")

    def handle(self, username, reason, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        removed = reset_second_factor(user, reason=reason)
        self.stdout.write(f"removed {removed} device(s) of {username}")
