from __future__ import annotations

import datetime as dt

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "ketaclinic.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from .registry import register_command

        # The audit app comes before this one and cannot register itself; its checkpoint
        # job is registered here (jobs may import audit, never the other way round).
        register_command(
            "audit_checkpoint",
            every=dt.timedelta(minutes=1),
            description="Sign the audit trail's head into the checkpoint file.",
        )
