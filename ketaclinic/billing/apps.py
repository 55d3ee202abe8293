from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ketaclinic.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Billing is later than patients, plans and scheduling: it registers itself into
        # their small registries instead of being imported by them.
        from . import registrations

        registrations.register()
