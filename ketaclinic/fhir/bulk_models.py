"""The Bulk Data export job: one row per ``$export`` kick-off, worked outside the request.

A worker (``manage.py fhir_export_worker``) claims a queued job, or a running one whose
lease ran out (its worker died), writes one NDJSON file per resource type under
``VAR_DIR/exports/<job id>/`` and records the manifest's outputs here. Files and the row's
outputs expire 24 hours after completion (``ketaclinic.fhir.jobs.cleanup``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ExportLevel(models.TextChoices):
    SYSTEM = "system", "Whole clinic"
    PATIENT = "patient", "All patients"
    GROUP = "group", "A group of patients"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class ExportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fhir_exports"
    )
    level = models.CharField(max_length=10, choices=ExportLevel.choices)
    group_id = models.CharField(max_length=64, blank=True)
    types = models.JSONField(default=list)  # resource type names, in writing order
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField()
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.CharField(max_length=120, blank=True)
    transaction_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The worker holding the job and until when; past it, another worker may re-claim.
    worker = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    output = models.JSONField(default=list)  # [{"type", "file", "count", "bytes"}]
    errors = models.JSONField(default=list)  # [{"type", "message"}]

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"FHIR export {self.id} ({self.level}, {self.status})"
