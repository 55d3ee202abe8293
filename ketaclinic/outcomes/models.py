"""Outcome measurement records: instrument definitions, answers, due measures, safety tasks.

Definitions are data: the shipped YAML files are seeded into :class:`InstrumentDefinition`
(migration ``0002``) and a clinic admin may load its own (for instance a licensed C-SSRS),
always through ``definitions.parse_instrument``. A :class:`Response` keeps the answers as
given and a snapshot of the score computed by ``scoring.score`` at submission; it is never
overwritten: a wrong one is marked ``entered-in-error`` (FHIR QuestionnaireResponse words).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .definitions import Instrument, parse_instrument

USER = settings.AUTH_USER_MODEL


class DefinitionOrigin(models.TextChoices):
    SHIPPED = "shipped", "Shipped with ketaclinic"
    CLINIC = "clinic", "Loaded by the clinic"


class DefinitionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DRAFT = "draft", "Draft"
    RETIRED = "retired", "Retired"


@lru_cache(maxsize=256)
def _parsed(code: str, version: int, fingerprint: str, raw: str) -> Instrument:
    import json

    return parse_instrument(json.loads(raw), origin=f"{code} v{version}")


class InstrumentDefinitionQuerySet(models.QuerySet):
    def usable(self) -> InstrumentDefinitionQuerySet:
        return self.filter(status=DefinitionStatus.ACTIVE)


class InstrumentDefinition(models.Model):
    """One questionnaire definition as the clinic uses it; changes are audited."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=DefinitionStatus.choices, default=DefinitionStatus.ACTIVE
    )
    rater = models.CharField(max_length=10)
    origin = models.CharField(max_length=10, choices=DefinitionOrigin.choices)
    # The mapping exactly as ``parse_instrument`` validated it (the YAML, as JSON).
    definition = models.JSONField()
    loaded_at = models.DateTimeField(default=timezone.now)
    loaded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = InstrumentDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DefinitionStatus.values), name="instrument_status_known"
            ),
            models.CheckConstraint(
                condition=Q(rater__in=["patient", "clinician"]), name="instrument_rater_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def instrument(self) -> Instrument:
        """The validated definition (parsed once per version per process)."""
        import json

        raw = json.dumps(self.definition, sort_keys=True)
        fingerprint = hashlib.sha256(raw.encode()).hexdigest()
        return _parsed(self.code, self.version, fingerprint, raw)

    @property
    def is_patient_rated(self) -> bool:
        return self.rater == "patient"


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Complete"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Channel(models.TextChoices):
    PORTAL = "portal", "Patient, on the portal"
    PAPER = "paper", "Staff, from a paper form"
    PHONE = "phone", "Staff, by phone"
    INTERVIEW = "interview", "Clinician-rated interview"


class ResponseQuerySet(models.QuerySet):
    def completed(self) -> ResponseQuerySet:
        return self.filter(status=ResponseStatus.COMPLETED)

    def valid(self) -> ResponseQuerySet:
        return self.exclude(status=ResponseStatus.ENTERED_IN_ERROR)

    def on_local_day(self, day: dt.date) -> ResponseQuerySet:
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return self.filter(submitted_at__gte=start, submitted_at__lt=end)


class Response(models.Model):
    """One questionnaire answered (or being answered) by a patient, or rated by a clinician."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outcome_responses"
    )
    instrument = models.ForeignKey(
        InstrumentDefinition,
        to_field="code",
        db_column="instrument_code",
        on_delete=models.PROTECT,
        related_name="responses",
    )
    instrument_version = models.PositiveIntegerField()
    # One entry per item in item order; null marks an unanswered item.
    answers = models.JSONField(default=list)
    status = models.CharField(
        max_length=20, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    # Score snapshot, computed by scoring.score when the answers were complete.
    total = models.SmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    subscores = models.JSONField(default=dict, blank=True)
    provisional_ptsd = models.BooleanField(null=True, blank=True)

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Null when the patient answered through a single-use link without logging in.
    entered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        "plans.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_responses",
    )
    session = models.ForeignKey(
        "charting.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_responses",
    )
    task = models.ForeignKey(
        "outcomes.MeasurementTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the patient gave the complete answers (for paper, the date on the form).
    submitted_at = models.DateTimeField(null=True, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-started_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "submitted_at"], name="response_patient"),
            # Covering index: the dashboard's cohort reads only these columns, 200k+ rows.
            models.Index(
                fields=["status", "instrument", "patient", "submitted_at", "total"],
                name="response_cohort_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ResponseStatus.values), name="response_status_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="response_channel_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | Q(total__isnull=False, submitted_at__isnull=False),
                name="response_completed_is_scored",
            ),
            models.CheckConstraint(
                condition=~Q(status="in-progress") | Q(total__isnull=True),
                name="response_in_progress_unscored",
            ),
            models.CheckConstraint(
                condition=~Q(status="entered-in-error") | ~Q(error_reason=""),
                name="response_error_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(channel="portal") | Q(entered_by__isnull=False),
                name="response_staff_entry_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.total if self.total is not None else '…'}"

    @property
    def is_complete(self) -> bool:
        return self.status == ResponseStatus.COMPLETED

    @property
    def band_label(self) -> str:
        """The band's words (``Moderately severe``), from the instrument definition."""
        if not self.band:
            return ""
        band = next((b for b in self.instrument.instrument.bands if b.code == self.band), None)
        return band.label if band else self.band

    @property
    def answered_count(self) -> int:
        return sum(1 for a in self.answers if a is not None)


class TaskReason(models.TextChoices):
    BASELINE = "baseline", "Baseline, before the first session"
    PRE_SESSION = "pre_session", "Before a session"
    AFTER_FIRST = "after_first_induction", "24 h after the first induction session"
    AFTER_LAST = "after_last_induction", "24 h after the last induction session"
    WEEKLY = "weekly_induction", "Weekly during induction"
    MONTHLY = "monthly_maintenance", "Monthly in maintenance"
    FOLLOW_UP = "follow_up", "Follow-up after the course"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class MeasurementTaskQuerySet(models.QuerySet):
    def open(self) -> MeasurementTaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def due_by(self, day: dt.date) -> MeasurementTaskQuerySet:
        """Open tasks whose window has opened by ``day`` (due or overdue)."""
        return self.open().filter(opens_on__lte=day)


class MeasurementTask(models.Model):
    """One measure due per the protocol schedule (``outcomes/schedule.py``)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measurement_tasks"
    )
    plan = models.ForeignKey(
        "plans.TreatmentPlan", on_delete=models.CASCADE, related_name="measurement_tasks"
    )
    instrument = models.ForeignKey(
        InstrumentDefinition,
        to_field="code",
        db_column="instrument_code",
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    reason = models.CharField(max_length=30, choices=TaskReason.choices)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # The window: answers from ``opens_on`` count; after ``due_on`` it is overdue.
    opens_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="fulfils"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = MeasurementTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "opens_on"], name="task_open_window")]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "instrument", "reason", "due_on"], name="task_once_per_due_day"
            ),
            models.CheckConstraint(
                condition=Q(opens_on__lte=models.F("due_on")), name="task_window"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="task_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.get_reason_display()} due {self.due_on}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < (today or timezone.localdate())


class SafetyTaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Follow-up documented"


class FollowUpAction(models.TextChoices):
    PHONE = "phone_call", "Spoke with the patient by phone"
    IN_PERSON = "in_person", "Saw the patient in person"
    EMERGENCY = "emergency_referral", "Referred to emergency services"
    CRISIS_LINE = "crisis_line", "Connected with a crisis line"
    OTHER = "other", "Other (described in the note)"


class SafetyTaskQuerySet(models.QuerySet):
    def open(self) -> SafetyTaskQuerySet:
        return self.filter(status=SafetyTaskStatus.OPEN)


class SafetyTask(models.Model):
    """Urgent follow-up of a suicidal-ideation answer; open until a clinician documents it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_tasks"
    )
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="safety_tasks")
    flag = models.CharField(max_length=40)
    finding = models.CharField(max_length=300)
    # The prescriber from the care team; null when the patient has none (then every
    # prescriber sees it, marked unassigned).
    assigned_to = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_tasks"
    )
    status = models.CharField(
        max_length=10, choices=SafetyTaskStatus.choices, default=SafetyTaskStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    follow_up_action = models.CharField(max_length=30, choices=FollowUpAction.choices, blank=True)
    follow_up_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = SafetyTaskQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "assigned_to"], name="safety_task_open")]
        constraints = [
            models.UniqueConstraint(fields=["response", "flag"], name="safety_task_once_per_flag"),
            models.CheckConstraint(
                condition=Q(status="open")
                | (
                    Q(resolved_by__isnull=False, resolved_at__isnull=False)
                    & ~Q(follow_up_note="")
                    & ~Q(follow_up_action="")
                ),
                name="safety_task_resolution_documented",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flag} for patient {self.patient_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == SafetyTaskStatus.OPEN


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class QuestionnaireLink(models.Model):
    """A single-use, expiring link that opens the patient's due questionnaires.

    Only the SHA-256 of the token is stored, so a database reader cannot use a link.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="questionnaire_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link for patient {self.patient_id}, expires {self.expires_at:%Y-%m-%d %H:%M}"
