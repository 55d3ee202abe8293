from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_after_migrate(sender, apps=None, **kwargs) -> None:
    """Reference data is back after every migrate and every flush (tests flush between runs)."""
    # flush sends post_migrate without ``apps``; migrate sends the migration state.
    apps = apps or global_apps
    from .seeding import seed_protocols

    seed_protocols(apps.get_model("protocols", "Protocol"))


class ProtocolsConfig(AppConfig):
    name = "ketaclinic.protocols"
    label = "protocols"

    def ready(self) -> None:
        post_migrate.connect(seed_after_migrate, sender=self)
