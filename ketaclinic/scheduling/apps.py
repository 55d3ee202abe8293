from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_after_migrate(sender, apps=None, **kwargs) -> None:
    """Appointment types and opening hours are back after every migrate and every flush."""
    # flush sends post_migrate without ``apps``; migrate sends the migration state.
    apps = apps or global_apps
    from . import seed

    seed.seed(
        apps.get_model("scheduling", "AppointmentType"),
        apps.get_model("scheduling", "OpeningHours"),
    )


class SchedulingConfig(AppConfig):
    name = "ketaclinic.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        post_migrate.connect(seed_after_migrate, sender=self)
        from ketaclinic.jobs.registry import register_command, timedelta

        register_command(
            "send_reminders",
            every=timedelta(minutes=10),
            description="Send preparation reminders for visits in the reminder window.",
        )
