"""A patient's signature on one version of one consent document."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ConsentSignatureQuerySet(models.QuerySet):
    def valid(self) -> ConsentSignatureQuerySet:
        return self.filter(withdrawn_at__isnull=True)


class ConsentSignature(models.Model):
    """Typed full name, when, which version, and the SHA-256 of the exact text shown."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    document_code = models.CharField(max_length=40)
    document_version = models.PositiveIntegerField()
    document_title = models.CharField(max_length=200)
    text_sha256 = models.CharField(max_length=64)
    typed_name = models.CharField(max_length=250)
    signed_at = models.DateTimeField(default=timezone.now)
    # The portal account that signed; empty only for a signature recorded from paper
    # (the demo clinic's history), never for one made on the portal.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    via = models.CharField(max_length=10, default="portal")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentSignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "document_code", "document_version"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_signed_once_per_version",
            ),
            models.CheckConstraint(
                condition=Q(document_version__gte=1), name="consent_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_code} v{self.document_version} signed {self.signed_at:%Y-%m-%d}"
