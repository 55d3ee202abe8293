"""The treatment session record: what happened during one infusion or esketamine visit.

Everything here is append-only in spirit: administration events, vitals, alerts, side
effects and checklist entries are added, never edited; a wrong one is marked
``entered-in-error``. Derived facts (total dose delivered, due vitals, discharge blockers)
are computed by the pure modules next to this one (``administration.py``, ``safety.py``,
``vitals.py``, ``rems.py``) from these rows, never typed in. The REMS records live in
``rems_models.py`` and the bedside monitors in ``device_models.py``; both are importable
from here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .alert_rules import label_of
from .device_models import IngestionRequest, MonitorDevice  # noqa: F401
from .rems_models import RemsEnrollment, RemsForm, SettingCertification  # noqa: F401
from .vital_constraints import newest_value_indexes, plausibility_constraints

USER = settings.AUTH_USER_MODEL


class SessionStatus(models.TextChoices):
    CHECKLIST = "checklist", "Pre-session checklist"
    DOSING = "dosing", "Dosing"
    OBSERVATION = "observation", "Observation"
    DISCHARGED = "discharged", "Discharged"
    NOT_STARTED = "not_started", "Not started"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.CHECKLIST: frozenset(
        {SessionStatus.DOSING, SessionStatus.NOT_STARTED, SessionStatus.ENTERED_IN_ERROR}
    ),
    SessionStatus.DOSING: frozenset({SessionStatus.OBSERVATION}),
    SessionStatus.OBSERVATION: frozenset({SessionStatus.DISCHARGED}),
    SessionStatus.DISCHARGED: frozenset(),
    SessionStatus.NOT_STARTED: frozenset(),
    SessionStatus.ENTERED_IN_ERROR: frozenset(),
}
ACTIVE = (SessionStatus.CHECKLIST, SessionStatus.DOSING, SessionStatus.OBSERVATION)


class RecordStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class TreatmentSessionQuerySet(models.QuerySet):
    def active(self) -> TreatmentSessionQuerySet:
        return self.filter(status__in=ACTIVE)


class TreatmentSession(models.Model):
    """One treatment visit, opened at check-in from its appointment and the active plan."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    plan = models.ForeignKey(
        "plans.TreatmentPlan", on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treatment_session",
    )
    chair = models.ForeignKey(
        "scheduling.Chair", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    session_number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Number in the plan's course."
    )
    route = models.CharField(max_length=20)
    protocol_code = models.CharField(max_length=40)
    drug = models.CharField(max_length=40, help_text="racemic ketamine or esketamine")
    # The dose as planned for this session (from the plan and its amendments at opening).
    planned_dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    planned_rate_mg_per_min = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    planned_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # The product drawn up: concentration, lot and expiry (controlled-substance log links it).
    product = models.CharField(max_length=100, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    lot_number = models.CharField(max_length=40, blank=True)
    lot_expiry = models.DateField(null=True, blank=True)

    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.CHECKLIST
    )
    nurse = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    prescriber_on_site = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    dose_started_at = models.DateTimeField(null=True, blank=True)
    dose_ended_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)

    objects = TreatmentSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-opened_at"], name="session_patient_opened"),
            models.Index(fields=["status"], name="session_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_dose_mg__gt=0), name="session_planned_dose_positive"
            ),
            # One running session per chair: a monitor in that chair writes to it.
            models.UniqueConstraint(
                fields=["chair"],
                condition=Q(status__in=["checklist", "dosing", "observation"]),
                name="session_one_active_per_chair",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="session_status_known"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_route_display_name()} session {self.session_number or ''} of {self.patient}"
        )

    def get_route_display_name(self) -> str:
        return {"iv": "IV", "im": "IM", "esketamine": "Esketamine"}.get(self.route, self.route)

    def phase_at(self, moment) -> str:
        """The phase of the session at ``moment`` (``alert_rules.PHASES``): before dosing,
        dosing, or observation once dosing has ended; an alert's advice depends on it."""
        if self.dose_started_at is None or moment < self.dose_started_at:
            return "before_dosing"
        if self.dose_ended_at is not None and moment >= self.dose_ended_at:
            return "observation"
        return "dosing"

    def minute_of(self, moment) -> float | None:
        """Minutes from dose start (negative before it), for the pure modules' timelines."""
        anchor = self.dose_started_at
        if anchor is None or moment is None:
            return None
        return (moment - anchor).total_seconds() / 60


class Entry(models.Model):
    """Bookkeeping shared by every session entry: who recorded it, when, and its status."""

    at = models.DateTimeField(default=timezone.now, help_text="When it happened.")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )
    error_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class ChecklistStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Not met"
    OVERRIDDEN = "overridden", "Overridden by prescriber"


class ChecklistEntry(Entry):
    """One answer to a pre-session checklist item; the newest per item counts."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="checklist"
    )
    code = models.CharField(max_length=40)
    outcome = models.CharField(max_length=12, choices=ChecklistStatus.choices)
    note = models.CharField(max_length=300, blank=True)
    # The dose check needs a second clinician.
    second_checker = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.CharField(max_length=300, blank=True)

    class Meta(Entry.Meta):
        verbose_name_plural = "checklist entries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="overridden") | ~Q(override_reason=""),
                name="checklist_override_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.outcome}"


class InfusionEventKind(models.TextChoices):
    START = "start", "Start"
    RATE_CHANGE = "rate_change", "Rate change"
    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    STOP = "stop", "Stop"


class InfusionEvent(Entry):
    """Start, every rate change, pause, resume and stop of an infusion (or a bolus dose)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="infusion_events"
    )
    kind = models.CharField(max_length=12, choices=InfusionEventKind.choices)
    rate_mg_per_min = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta(Entry.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_mg_per_min__isnull=True)
                | Q(rate_mg_per_min__gt=0, rate_mg_per_min__lte=20),
                name="infusion_rate_plausible",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rate_mg_per_min or ''}"


class BolusDose(Entry):
    """An injected dose: IM, or an IV bolus."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="boluses")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta(Entry.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__gt=0, dose_mg__lte=500), name="bolus_dose_plausible"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg bolus"


class NasalDevice(Entry):
    """One esketamine device (28 mg) used, with its time; 5-minute rest checked on read."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="devices")
    device_mg = models.PositiveSmallIntegerField(default=28)

    class Meta(Entry.Meta):
        constraints = [models.CheckConstraint(condition=Q(device_mg=28), name="device_is_28_mg")]

    def __str__(self) -> str:
        return f"device {self.device_mg} mg"


class MedicationKind(models.TextChoices):
    PREMEDICATION = "premedication", "Premedication"
    RESCUE = "rescue", "Rescue medication"


class MedicationGiven(Entry):
    """Premedication (e.g. ondansetron) or rescue medication (antihypertensive, benzodiazepine)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="medications_given"
    )
    kind = models.CharField(max_length=15, choices=MedicationKind.choices)
    drug = models.CharField(max_length=100)
    dose = models.CharField(max_length=50)
    route = models.CharField(max_length=30)
    reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.drug} {self.dose}"


class VitalSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    DEVICE = "device", "Bedside monitor"


class VitalReading(Entry):
    """One set of vital signs. Implausible values are refused before they get here."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="vitals")
    source = models.CharField(max_length=10, choices=VitalSource.choices)
    device = models.ForeignKey(
        "charting.MonitorDevice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    resp_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)

    class Meta(Entry.Meta):
        indexes = [
            models.Index(fields=["session", "at"], name="vitals_session_at"),
            *newest_value_indexes(),
        ]
        # The clinic's plausibility limits (data/plausibility_limits.yaml), checked before a
        # reading is stored, are also the database's last word (vital_constraints.py).
        constraints = plausibility_constraints()

    def __str__(self) -> str:
        return f"vitals at {self.at:%H:%M}"


class AlertLevel(models.TextChoices):
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class SafetyAlert(models.Model):
    """An alert raised by the clinic's vital-sign policy; a named clinician acknowledges it."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="alerts")
    reading = models.ForeignKey(
        VitalReading, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    code = models.CharField(max_length=40)
    level = models.CharField(max_length=10, choices=AlertLevel.choices)
    action = models.CharField(max_length=300)
    basis = models.TextField()
    finding = models.CharField(max_length=300, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["session", "acknowledged_at"], name="alert_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True)
                | (Q(acknowledged_by__isnull=False) & ~Q(action_taken="")),
                name="alert_ack_names_who_and_what",
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.code}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def label(self) -> str:
        """What people read for the alert's code, e.g. "Blood pressure high"."""
        return label_of(self.code)

    @property
    def message(self) -> str:
        """``Blood pressure high: 186/112 mmHg (limit 180/110)``."""
        return f"{self.label}: {self.finding}" if self.finding else self.label


class DissociationRating(Entry):
    """Dissociation at a set time: 0–10, and the CADSS-6 items where the clinic uses them."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="dissociation_ratings"
    )
    score = models.PositiveSmallIntegerField()
    cadss_items = models.JSONField(default=dict, blank=True)

    class Meta(Entry.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=10), name="dissociation_score_0_10")
        ]

    def __str__(self) -> str:
        return f"dissociation {self.score}/10"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class SideEffect(Entry):
    """A side effect from the seeds' vocabulary (charting/data/side_effects.yaml)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="side_effects"
    )
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    action = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.code} ({self.severity})"


class AdverseEvent(Entry):
    """An adverse event; serious ones are flagged for reporting, esketamine ones for REMS."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="adverse_events"
    )
    description = models.TextField()
    serious = models.BooleanField(default=False)
    report_required = models.BooleanField(default=False)
    rems_reportable = models.BooleanField(default=False)
    reported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.description[:60]


class Discharge(models.Model):
    """The signed discharge: criteria met, observation time, written instructions."""

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="discharge"
    )
    criteria = models.JSONField(default=dict)
    instructions = models.TextField()
    signed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    observation_minutes = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"discharged {self.signed_at:%Y-%m-%d %H:%M}"


class IntegrationNote(Entry):
    """The therapist's integration session note, linked to the treatment it follows."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="integration_notes"
    )
    therapist = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()

    def __str__(self) -> str:
        return f"integration note {self.at:%Y-%m-%d}"


class VitalSignPolicyVersion(models.Model):
    """One signed version of the clinic's vital-sign thresholds (``charting/policy.py``).

    Versions are only ever added: the newest is in force, and the shipped defaults
    (``data/vital_sign_policy.yaml``) are in force until the first one.
    """

    number = models.PositiveIntegerField(unique=True)
    values = models.JSONField(
        help_text="Every editable threshold, as text: {'bp_high.systolic_mmhg': '180'}."
    )
    reason = models.TextField()
    signed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="policy_version_has_reason")
        ]

    def __str__(self) -> str:
        return f"vital-sign policy v{self.number}"
