"""The patient's intake answers and the items a clinician confirms into the record.

A submission keeps the answers exactly as sent. Each thing reported becomes an
``IntakeItem``: pending until a clinician confirms it (creating the real diagnosis,
medication, trial or treatment row, attributed to that clinician) or sets it aside with a
reason. A newer submission supersedes the pending items of older ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class IntakeSubmission(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_submissions"
    )
    answers = models.JSONField()
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"intake of patient {self.patient_id} on {self.submitted_at:%Y-%m-%d}"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Awaiting confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    SET_ASIDE = "set_aside", "Set aside"
    SUPERSEDED = "superseded", "Replaced by a newer intake"


class IntakeItemQuerySet(models.QuerySet):
    def pending(self) -> IntakeItemQuerySet:
        return self.filter(status=ItemStatus.PENDING)

    def findings(self) -> IntakeItemQuerySet:
        return self.exclude(finding="")


class IntakeItem(models.Model):
    submission = models.ForeignKey(IntakeSubmission, on_delete=models.PROTECT, related_name="items")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_items"
    )
    kind = models.CharField(max_length=20)
    label = models.CharField(max_length=400)
    data = models.JSONField(default=dict)
    # The screening finding the answer states, when it states one ("" otherwise).
    finding = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    # The record row a confirmation created ("Diagnosis", 12), when it created one.
    record_type = models.CharField(max_length=40, blank=True)
    record_id = models.PositiveBigIntegerField(null=True, blank=True)

    objects = IntakeItemQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["patient", "status"], name="intake_item_patient_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[ItemStatus.PENDING, ItemStatus.SUPERSEDED])
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="intake_item_reviewed_has_reviewer",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def origin(self) -> str:
        """Where a confirmed fact came from, in the words the record shows."""
        if self.status != ItemStatus.CONFIRMED or self.reviewed_by is None:
            return "patient-reported intake, awaiting confirmation"
        name = self.reviewed_by.get_full_name() or self.reviewed_by.username
        return f"patient-reported intake, confirmed by {name}"
