from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketaclinic.web"
    label = "web"
    verbose_name = "Shared web helpers"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
