from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction


@pytest.fixture(scope="module")
def demo_clinic(django_db_setup, django_db_blocker):
    """The 40-patient demo clinic, built once per module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", "--quiet-logins", "--patients", "40")
        yield
        transaction.set_rollback(True)
