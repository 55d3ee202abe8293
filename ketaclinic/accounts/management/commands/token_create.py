from django.core.management.base import BaseCommand, CommandError

from ketaclinic.accounts.models import TOKEN_LIFETIME_DAYS, ApiToken, User
from ketaclinic.audit import trail


class Command(BaseCommand):
    help = (
        "Create an API bearer token for USERNAME. The token is printed once; only its hash is "
        f"kept. It expires after --days (default {TOKEN_LIFETIME_DAYS})."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="What the token is for, e.g. a device.")
        parser.add_argument(
            "--days",
            type=int,
            default=TOKEN_LIFETIME_DAYS,
            help=f"Days until the token expires (default {TOKEN_LIFETIME_DAYS}).",
        )

    def handle(self, username, name, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        token, raw = ApiToken.issue(user, name, days=days)
        trail.record(
            action="token.create",
            actor=user,
            target=token,
            detail={"name": name, "by": "cli", "days": days, "expires_at": token.expires_at},
        )
        self.stdout.write(raw)
