"""Treatment plans: what a prescriber signs for one course, and the course it proposes.

A plan is ``draft`` until a prescriber signs it, then ``active`` until ``completed`` or
``stopped`` (or ``entered-in-error``); one active plan per patient, enforced by the database.
The dose signed stays as signed: later changes are :class:`PlanDoseChange` amendments with the
old and new dose, never an overwrite. At signing, the proposed course
(``plans/schedule.py``) is kept as :class:`PlannedSession` rows, apart from bookings (issue #4
books chairs and staff against them).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients.models import Patient
from ketaclinic.protocols import dosing
from ketaclinic.protocols.models import Protocol
from ketaclinic.screening.models import INDICATION_CHOICES, ROUTE_CHOICES, Screening


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


# Draft -> active happens only by signing (plans.services.plan_sign).
TRANSITIONS: dict[str, set[str]] = {
    PlanStatus.DRAFT: {PlanStatus.ACTIVE, PlanStatus.ENTERED_IN_ERROR},
    PlanStatus.ACTIVE: {PlanStatus.COMPLETED, PlanStatus.STOPPED, PlanStatus.ENTERED_IN_ERROR},
    PlanStatus.COMPLETED: set(),
    PlanStatus.STOPPED: set(),
    PlanStatus.ENTERED_IN_ERROR: set(),
}
NEEDS_REASON = {PlanStatus.STOPPED, PlanStatus.ENTERED_IN_ERROR}

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class PlanQuerySet(models.QuerySet):
    def valid(self) -> PlanQuerySet:
        return self.exclude(status=PlanStatus.ENTERED_IN_ERROR)


@dataclass(frozen=True)
class DoseStep:
    """The dose in effect from one session of the course on."""

    from_session: int
    dose_mg: Decimal
    dose_mg_per_kg: Decimal | None
    reason: str
    by: str
    at: object


class TreatmentPlan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="plans")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="plans")
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES)
    route = models.CharField(max_length=20, choices=ROUTE_CHOICES)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)

    # The dose as signed (dosing.py on the clinic's protocol); amendments never change these.
    dose_mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    rate_mg_per_min = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_warnings = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_measured_on = models.DateField(null=True, blank=True)

    # The course: which schedule pattern and its parameters.
    schedule_code = models.CharField(max_length=40, blank=True)
    start_date = models.DateField()
    working_weekdays = models.JSONField(default=list)
    interval_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    session_count = models.PositiveSmallIntegerField(null=True, blank=True)
    horizon_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    maintenance_weekly = models.BooleanField(default=False)
    induction_sessions = models.PositiveSmallIntegerField(null=True, blank=True)

    concurrent_oral_antidepressant = models.CharField(max_length=150, blank=True)
    psychotherapy_plan = models.TextField(blank=True)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="plan_one_active_per_patient",
            ),
            # A screening backs one plan (re-screening before each course).
            models.UniqueConstraint(
                fields=["screening"],
                condition=~Q(status="entered-in-error"),
                name="plan_one_per_screening",
            ),
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="plan_dose_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "entered-in-error"])
                | Q(signed_by__isnull=False, signed_at__isnull=False),
                name="plan_signed_when_past_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol.name} plan ({self.get_status_display().lower()})"

    @property
    def in_error(self) -> bool:
        return self.status == PlanStatus.ENTERED_IN_ERROR

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT

    @property
    def is_active(self) -> bool:
        return self.status == PlanStatus.ACTIVE

    @property
    def working_weekday_names(self) -> str:
        return ", ".join(WEEKDAY_NAMES[day] for day in sorted(self.working_weekdays or []))

    # --- Dose history ------------------------------------------------------------------

    def dose_steps(self) -> list[DoseStep]:
        """The signed dose from session 1, then each amendment in the order it was made.

        Reads ``dose_changes`` (prefetch it on pages).
        """
        steps = [
            DoseStep(
                1,
                self.dose_mg,
                self.dose_mg_per_kg,
                "signed plan",
                self.signed_by.display_name if self.signed_by_id else "",
                self.signed_at,
            )
        ]
        for change in sorted(self.dose_changes.all(), key=lambda c: (c.changed_at, c.pk)):
            steps.append(
                DoseStep(
                    change.from_session,
                    change.new_dose_mg,
                    change.new_dose_mg_per_kg,
                    change.reason,
                    change.changed_by.display_name,
                    change.changed_at,
                )
            )
        return steps

    def current_dose(self) -> DoseStep:
        steps = self.dose_steps()
        return max(steps, key=lambda step: step.from_session)

    def dose_for_session(self, number: int, steps: list[DoseStep] | None = None) -> DoseStep:
        """The dose planned for session ``number``: the latest step starting at or before it."""
        steps = steps if steps is not None else self.dose_steps()
        in_effect = steps[0]
        for step in steps:
            if step.from_session <= number and step.from_session >= in_effect.from_session:
                in_effect = step
        return in_effect

    def dose_creep(self, steps: list[DoseStep] | None = None) -> dosing.DoseCreep:
        """Escalations and the total rise over the course (``dosing.dose_creep``)."""
        steps = steps if steps is not None else self.dose_steps()
        by_session: dict[int, DoseStep] = {}
        for step in steps:
            by_session[step.from_session] = step  # a later amendment of the same session wins
        return dosing.dose_creep(
            [
                dosing.DoseRecord(number, step.dose_mg, step.dose_mg_per_kg)
                for number, step in by_session.items()
            ]
        )


class PlanDoseChange(models.Model):
    """An amendment of a signed plan's dose, from one session on. Never edited."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="dose_changes")
    from_session = models.PositiveSmallIntegerField()
    old_dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    old_dose_mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    new_dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    new_dose_mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    new_rate_mg_per_min = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    new_devices = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_measured_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    override_reason = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_dose_mg__gt=0) & Q(from_session__gte=1),
                name="dose_change_positive",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="dose_change_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.old_dose_mg} → {self.new_dose_mg} mg from session {self.from_session}"


class PlannedSession(models.Model):
    """One session of the proposed course, as snapshotted at signing. Bookings refer to it."""

    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, related_name="planned_sessions"
    )
    number = models.PositiveSmallIntegerField()
    date = models.DateField()
    phase = models.CharField(max_length=20)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planned_session_number"),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} on {self.date:%Y-%m-%d} ({self.phase})"
