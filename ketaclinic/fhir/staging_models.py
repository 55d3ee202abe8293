"""Records received from another EHR (``POST /fhir/R4/`` with a Bundle), held for review.

Nothing received is merged into the record on arrival: each resource of the bundle becomes
a ``StagedItem`` with its origin (sender, bundle id, received at). The bundle's Patient is
matched against the clinic's patients by the duplicate check; a match is only offered
(``candidate_ids``), never merged. A clinician accepts or rejects each item.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StagedImport(models.Model):
    sender = models.CharField(max_length=200)  # Bundle.meta.source, else the caller's name
    bundle_id = models.CharField(max_length=64, blank=True)
    bundle_type = models.CharField(max_length=20)
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fhir_imports"
    )
    # The bundle's patient as sent, and the clinic patients the duplicate check matched.
    patient_resource = models.JSONField()
    candidate_ids = models.JSONField(default=list)
    # The clinic patient a clinician filed the bundle under (created from it, or a match
    # confirmed); empty until then. Items are accepted onto this patient only.
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fhir_imports",
    )

    def __str__(self) -> str:
        return f"Records from {self.sender} received {self.received_at:%Y-%m-%d}"


class StagedStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class StagedItem(models.Model):
    staged_import = models.ForeignKey(StagedImport, on_delete=models.CASCADE, related_name="items")
    entry_index = models.PositiveIntegerField()
    resource_type = models.CharField(max_length=40)
    resource = models.JSONField()
    status = models.CharField(
        max_length=10, choices=StagedStatus.choices, default=StagedStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)  # why it was rejected

    class Meta:
        ordering = ["staged_import", "entry_index"]

    def __str__(self) -> str:
        return f"{self.resource_type} #{self.entry_index} ({self.status})"
