"""Bedside monitors bound to chairs, and the idempotency keys of what they sent: a monitor
writes readings to the session running in its chair (``devices.py``, ``vitals_service.py``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class MonitorDevice(models.Model):
    """A bedside monitor bound to a chair; it authenticates with a token (hash stored)."""

    name = models.CharField(max_length=100)
    chair = models.ForeignKey("scheduling.Chair", on_delete=models.PROTECT, related_name="monitors")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.chair})"


class IngestionRequest(models.Model):
    """An ``Idempotency-Key`` seen from a device: a repeat returns the stored answer."""

    device = models.ForeignKey(MonitorDevice, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    body_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "key"], name="ingestion_key_once_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.key}"
