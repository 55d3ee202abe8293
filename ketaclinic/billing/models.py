"""Billing: coverage on the patient record and prior authorization per plan.

Coverage is history: a change is a new row that closes the one it replaces, never an overwrite.
A prior authorization moves only along ``AUTH_TRANSITIONS``; each move is an ``AuthorizationEvent``
(the intake triage table's pattern).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class SubscriberRelationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse or partner"
    CHILD = "child", "Child"
    OTHER = "other", "Other"


class Network(models.TextChoices):
    IN = "in", "In network"
    OUT = "out", "Out of network"
    UNKNOWN = "unknown", "Not known"


class CoverageQuerySet(models.QuerySet):
    def current(self) -> CoverageQuerySet:
        """Rows not replaced by a later change (they may still have an end date)."""
        return self.filter(closed_at__isnull=True)


class Coverage(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="coverages"
    )
    self_pay = models.BooleanField(default=False)
    payer_name = models.CharField(max_length=150, blank=True)
    member_id = models.CharField(max_length=60, blank=True)
    group_number = models.CharField(max_length=60, blank=True)
    subscriber_relationship = models.CharField(
        max_length=10, choices=SubscriberRelationship.choices, blank=True
    )
    network = models.CharField(max_length=10, choices=Network.choices, default=Network.UNKNOWN)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CoverageQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="coverage_to_not_before_from",
            ),
            models.CheckConstraint(
                condition=Q(self_pay=True) | ~Q(payer_name=""),
                name="coverage_payer_unless_self_pay",
            ),
            models.CheckConstraint(
                condition=Q(network__in=Network.values), name="coverage_network_known"
            ),
        ]

    def __str__(self) -> str:
        return "Self-pay" if self.self_pay else f"{self.payer_name} ({self.member_id})"


class AuthStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "Not needed"
    TO_SUBMIT = "to_submit", "To submit"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    APPEAL = "appeal", "Under appeal"


AUTH_TRANSITIONS: dict[str, frozenset[str]] = {
    AuthStatus.NOT_NEEDED: frozenset({AuthStatus.TO_SUBMIT}),
    AuthStatus.TO_SUBMIT: frozenset({AuthStatus.SUBMITTED, AuthStatus.NOT_NEEDED}),
    AuthStatus.SUBMITTED: frozenset({AuthStatus.APPROVED, AuthStatus.DENIED}),
    # An approval is renewed (more units, new dates) by submitting again.
    AuthStatus.APPROVED: frozenset({AuthStatus.SUBMITTED, AuthStatus.APPROVED}),
    AuthStatus.DENIED: frozenset({AuthStatus.APPEAL, AuthStatus.SUBMITTED}),
    AuthStatus.APPEAL: frozenset({AuthStatus.APPROVED, AuthStatus.DENIED}),
}


class PriorAuthorization(models.Model):
    plan = models.OneToOneField(
        "plans.TreatmentPlan", on_delete=models.PROTECT, related_name="prior_authorization"
    )
    status = models.CharField(
        max_length=12, choices=AuthStatus.choices, default=AuthStatus.TO_SUBMIT
    )
    auth_number = models.CharField(max_length=60, blank=True)
    units = models.PositiveIntegerField(
        null=True, blank=True, help_text="Approved sessions (visits) the authorization covers."
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    denial_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AuthStatus.values), name="prior_auth_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=AuthStatus.APPROVED)
                | (
                    ~Q(auth_number="")
                    & Q(units__gt=0)
                    & Q(valid_from__isnull=False)
                    & Q(valid_to__gte=F("valid_from"))
                ),
                name="prior_auth_approved_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status=AuthStatus.DENIED) | ~Q(denial_reason=""),
                name="prior_auth_denied_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Prior authorization for plan {self.plan_id}: {self.get_status_display()}"


class AuthorizationEvent(models.Model):
    authorization = models.ForeignKey(
        PriorAuthorization, on_delete=models.PROTECT, related_name="events"
    )
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    auth_number = models.CharField(max_length=60, blank=True)
    units = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"
