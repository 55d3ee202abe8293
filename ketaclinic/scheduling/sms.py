"""Text messages through a pluggable backend (``SMS_BACKEND``), like Django's email backends."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("ketaclinic.sms")


class LoggingSmsBackend:
    """Writes messages to the log and keeps them in ``outbox`` (development and tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        logger.info("SMS to %s: %s", to, body)
        type(self).outbox.append((to, body))


def send_sms(to: str, body: str) -> None:
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(to, body)
