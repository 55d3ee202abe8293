from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit import trail


class Command(BaseCommand):
    help = "Revoke API tokens by their prefix (shown in the admin), or all of a user's."

    def add_arguments(self, parser):
        parser.add_argument("--prefix")
        parser.add_argument("--user")

    def handle(self, prefix=None, user=None, **options):
        tokens = ApiToken.objects.active()
        if prefix:
            tokens = tokens.filter(prefix=prefix)
        elif user:
            tokens = tokens.filter(user__username=user)
        else:
            raise CommandError("give --prefix or --user")
        count = 0
        for token in tokens:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            trail.record(action="token.revoke", actor=token.user, target=token)
            count += 1
        self.stdout.write(f"revoked {count} token(s)")
