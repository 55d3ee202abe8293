from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    REFUSED = "refused", "Refused"
    INVALID = "invalid", "Rejected as invalid"
    FAILED = "failed", "Failed"


class AuditEventQuerySet(models.QuerySet):
    def for_patient(self, patient_id: int) -> AuditEventQuerySet:
        return self.filter(patient_id=patient_id)


class AuditEvent(models.Model):
    """One append-only row per read or write of patient data, login and refusal.

    The database refuses UPDATE and DELETE (triggers, see ``database.py``); ``hash`` chains
    each row to the one before, so ``manage.py audit_verify`` finds edits, deletions and
    insertions made behind the application's back.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too: the trail must read the same if the account is renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    # A plain integer, not a foreign key: the trail outlives and must not cascade with records.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["patient_id", "-seq"], name="audit_patient_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_username or 'system'}"


class AuditChainHead(models.Model):
    """The single row holding the newest sequence number and hash.

    Appenders lock it (``SELECT ... FOR UPDATE``) so concurrent writers extend the chain
    one at a time on PostgreSQL; SQLite's IMMEDIATE transactions serialise them anyway.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
