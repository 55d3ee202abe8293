"""Consultation requests: what a stranger asks for before they are a patient, and its triage.

A request is not a patient record: nothing in it becomes a clinical fact until a clinician
takes it into the chart. Its status moves only along ``TRANSITIONS``, each move a
``TriageEvent`` with who and when (django-oscar's status table, saleor's order events).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read aloud over the phone is still one reference.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{body[:4]}-{body[4:]}"


class PreferredContact(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"


class Status(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    CONSULTATION_SCHEDULED = "consultation_scheduled", "Consultation scheduled"
    CONVERTED = "converted", "Converted to patient"
    DECLINED = "declined", "Declined"


OPEN_STATUSES = frozenset({Status.NEW, Status.CONTACTED, Status.CONSULTATION_SCHEDULED})

# A request may be converted at any open step: the consultation is booked for a patient, so
# the desk often converts first and books from the new chart. Converting is its own service
# (it creates the patient); converting and declining end the request.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.CONTACTED, Status.CONSULTATION_SCHEDULED, Status.CONVERTED, Status.DECLINED}
    ),
    Status.CONTACTED: frozenset({Status.CONSULTATION_SCHEDULED, Status.CONVERTED, Status.DECLINED}),
    Status.CONSULTATION_SCHEDULED: frozenset({Status.CONVERTED, Status.DECLINED}),
    Status.CONVERTED: frozenset(),
    Status.DECLINED: frozenset(),
}


class ConsultationRequestQuerySet(models.QuerySet):
    def open(self) -> ConsultationRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def triage_order(self) -> ConsultationRequestQuerySet:
        """Urgent first, then oldest first: whoever has waited longest is called next."""
        return self.order_by("-urgent", "created_at", "id")

    def urgent_open(self) -> ConsultationRequestQuerySet:
        return self.open().filter(urgent=True)


class ConsultationRequest(models.Model):
    reference = models.CharField(max_length=9, unique=True, default=new_reference)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=30)
    state_or_region = models.CharField(max_length=100)
    conditions = models.JSONField(default=list, help_text="Codes from the indication list.")
    current_treatment = models.TextField(blank=True)
    preferred_contact = models.CharField(max_length=10, choices=PreferredContact.choices)
    message = models.TextField(blank=True)
    consent_to_contact = models.BooleanField()
    suicidal_thoughts = models.BooleanField(
        default=False, help_text="The person ticked that they have thoughts of suicide."
    )
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.NEW)
    decline_reason = models.TextField(blank=True)
    red_flag = models.TextField(blank=True, help_text="A prescriber's early concern.")
    red_flag_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    red_flag_at = models.DateTimeField(null=True, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultation_requests",
    )
    # sha256 of the person's identity (name, birth date, email), to fold a resubmission
    # within minutes into the first request.
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ConsultationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "created_at", "id"]
        indexes = [models.Index(fields=["status", "urgent"], name="consult_request_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_to_contact=True), name="consult_request_consented"
            ),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=dt.date(1900, 1, 1)),
                name="consult_request_dob_plausible",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="consult_request_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.CONVERTED) | Q(patient__isnull=False),
                name="consult_request_converted_has_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation request {self.reference}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]


class TriageEvent(models.Model):
    """One step of a request's triage: the status it left and reached, who and when."""

    request = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, default="status")  # status, red_flag, converted
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request.reference}: {self.from_status} → {self.to_status}"

    @property
    def from_label(self) -> str:
        return Status(self.from_status).label if self.from_status in Status.values else ""

    @property
    def to_label(self) -> str:
        return Status(self.to_status).label if self.to_status in Status.values else ""


class SubmissionAttempt(models.Model):
    """One public submission from one client, kept only to limit how often a client sends.

    ``client_key`` is a keyed hash of the client's address, not the address itself: the limit
    needs to recognise a sender, not to know who they are. Rows older than the window are
    useless and may be deleted at any time.
    """

    client_key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["client_key", "at"], name="submission_attempt_client")]

    def __str__(self) -> str:
        return f"Submission at {self.at:%Y-%m-%d %H:%M}"


# Intake questionnaires and consent live in their own modules (issue #12, "portal" part).
from .consent_models import ConsentSignature  # noqa: E402, F401
from .questionnaire_models import IntakeItem, IntakeSubmission, ItemStatus  # noqa: E402, F401
