from django.core.management.base import BaseCommand, CommandError

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.audit import trail


class Command(BaseCommand):
    help = (
        "Create an API bearer token for USERNAME. The token is printed once; only its hash is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="What the token is for, e.g. a device.")

    def handle(self, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        token, raw = ApiToken.issue(user, name)
        trail.record(
            action="token.create", actor=user, target=token, detail={"name": name, "by": "cli"}
        )
        self.stdout.write(raw)
