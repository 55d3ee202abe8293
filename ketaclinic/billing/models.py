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


# --- Charges (issue #13, "charges"): fee schedule versions, charge lines, payments ---------


class EsketamineSupply(models.TextChoices):
    BUY_AND_BILL = "buy_and_bill", "The clinic buys and bills the drug (S0013)"
    PHARMACY = "pharmacy", "A pharmacy bills the drug (no drug line)"


class FeeSchedule(models.Model):
    """One version of the clinic's prices. A change is a new version; old ones stay."""

    version = models.PositiveIntegerField(unique=True)
    esketamine_supply = models.CharField(
        max_length=15, choices=EsketamineSupply.choices, default=EsketamineSupply.BUY_AND_BILL
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why the prices changed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(esketamine_supply__in=EsketamineSupply.values),
                name="fee_schedule_supply_known",
            )
        ]

    def __str__(self) -> str:
        return f"Fee schedule v{self.version}"


class Fee(models.Model):
    """The clinic's price for one code in one fee-schedule version (clinic policy [U])."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="fees")
    code = models.CharField(max_length=10)
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    ndc = models.CharField("NDC", max_length=20, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "code"], name="fee_once_per_schedule"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"


class SessionCharges(models.Model):
    """Marks that a discharged session's charge lines were made (once, whoever asks first)."""

    session = models.OneToOneField(
        "charting.TreatmentSession", on_delete=models.PROTECT, related_name="charges_made"
    )
    made_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Charges of session {self.session_id}"


class ChargeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"


class ChargeLine(models.Model):
    """One line of a bill. Confirmed lines never change (a database trigger refuses it):
    a correction is a confirmed reversal (negative amount) plus a new proposed line."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="charge_lines"
    )
    session = models.ForeignKey(
        "charting.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charge_lines",
    )
    # A consultation or integration visit's E/M or psychotherapy line (no session).
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charge_lines",
    )
    service_date = models.DateField()
    place_of_service = models.CharField(max_length=2, default="11")
    code = models.CharField(max_length=10)
    modifiers = models.CharField(max_length=20, blank=True)
    units = models.IntegerField()
    unit_price = models.DecimalField(max_digits=9, decimal_places=2)
    amount = models.DecimalField(max_digits=11, decimal_places=2)
    basis = models.CharField(max_length=300, blank=True, help_text="Why this code, from the chart.")
    drug_mg = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    ndc = models.CharField("NDC", max_length=20, blank=True)
    product = models.CharField(max_length=100, blank=True)
    lot_number = models.CharField(max_length=40, blank=True)
    diagnoses = models.JSONField(default=list, blank=True, help_text="ICD-10-CM codes, in order.")
    rendering_provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fee_schedule = models.ForeignKey(
        FeeSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.PROPOSED
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service_date", "id"]
        indexes = [models.Index(fields=["service_date"], name="charge_line_service_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ChargeStatus.values), name="charge_line_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=ChargeStatus.CONFIRMED)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="charge_line_confirmed_signed",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, units__gt=0)
                | Q(reverses__isnull=False, units__lt=0),
                name="charge_line_reversal_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} x{self.units} on {self.service_date}"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    TRANSFER = "transfer", "Bank transfer"
    OTHER = "other", "Other"


class Payment(models.Model):
    """Money the patient paid the clinic (self-pay)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    received_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.method} on {self.received_on}"


class ProviderProfile(models.Model):
    """A rendering provider's billing identity (NPI) for superbills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_profile"
    )
    npi = models.CharField("NPI", max_length=10, blank=True)

    def __str__(self) -> str:
        return f"NPI {self.npi or '—'} for {self.user}"
