from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ketaclinic.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from . import (  # noqa: F401  (login stamps for automatic logoff; deploy checks)
            checks,
            signals,
        )
