"""A patient's screening for one route and indication, and the prescriber's signature on it.

The answers given on the form, the facts read from the record and the engine's result are
stored as they were when evaluated, so a signed screening reads the same years later whatever
the rules or the record have become since. A screening is ``draft`` until a prescriber signs
it (or it is marked ``entered-in-error``); once signed it is never edited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients.models import Patient

from . import rules, validity

ROUTE_CHOICES = [
    ("iv", "IV racemic ketamine"),
    ("im", "IM racemic ketamine"),
    ("esketamine", "Esketamine nasal spray"),
    ("sublingual", "Sublingual ketamine"),
    ("oral", "Oral ketamine"),
]
INDICATION_CHOICES = [
    ("trd", "Treatment-resistant depression"),
    ("mdd_suicidal_ideation", "Depression with acute suicidal ideation"),
    ("ptsd", "PTSD"),
    ("anxiety", "Anxiety"),
    ("chronic_pain", "Chronic pain"),
    ("ocd", "OCD"),
    ("bipolar_depression", "Bipolar depression"),
]


class ScreeningStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class EngineDecision(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NEEDS_REVIEW = "needs_review", "Needs review"
    INELIGIBLE = "ineligible", "Ineligible"


class ClinicianDecision(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    ELIGIBLE_WITH_REASONING = "eligible_with_reasoning", "Eligible with documented reasoning"


ELIGIBLE_DECISIONS = {ClinicianDecision.ELIGIBLE, ClinicianDecision.ELIGIBLE_WITH_REASONING}


class ScreeningQuerySet(models.QuerySet):
    def valid(self) -> ScreeningQuerySet:
        return self.exclude(status=ScreeningStatus.ENTERED_IN_ERROR)

    def signed_eligible(self) -> ScreeningQuerySet:
        return self.filter(
            status=ScreeningStatus.SIGNED, clinician_decision__in=list(ELIGIBLE_DECISIONS)
        )


class Screening(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    route = models.CharField(max_length=20, choices=ROUTE_CHOICES)
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES)
    status = models.CharField(
        max_length=20, choices=ScreeningStatus.choices, default=ScreeningStatus.DRAFT
    )

    # The answers given on the form, by whom and when.
    reported_findings = models.JSONField(default=list, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    bp_measured_at = models.DateTimeField(null=True, blank=True)
    oral_antidepressant = models.BooleanField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    # What the record said at evaluation, and what the engine made of it all.
    age_years = models.PositiveSmallIntegerField()
    adequate_trials = models.PositiveSmallIntegerField()
    derived_findings = models.JSONField(
        default=list, blank=True, help_text="Findings read from the record: code, because, basis."
    )
    oral_antidepressants_on_record = models.JSONField(default=list, blank=True)
    engine_decision = models.CharField(max_length=20, choices=EngineDecision.choices)
    engine_findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(default=timezone.now)
    fingerprint = models.JSONField(default=dict, blank=True)

    # The signature.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    clinician_decision = models.CharField(
        max_length=30, choices=ClinicianDecision.choices, blank=True
    )
    reasoning = models.TextField(blank=True)
    valid_until = models.DateField(null=True, blank=True)

    error_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"], name="screening_patient")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(status="entered-in-error")
                | (
                    Q(signed_by__isnull=False, signed_at__isnull=False, valid_until__isnull=False)
                    & ~Q(clinician_decision="")
                ),
                name="screening_signed_has_signature",
            ),
            # A clinician never signs eligible over an exclusion (REFERENCE.md section 2).
            models.CheckConstraint(
                condition=~Q(
                    engine_decision="ineligible",
                    clinician_decision__in=["eligible", "eligible_with_reasoning"],
                ),
                name="screening_no_eligible_over_exclusion",
            ),
            models.CheckConstraint(
                condition=(Q(systolic_mmhg__isnull=True) & Q(diastolic_mmhg__isnull=True))
                | Q(systolic_mmhg__gt=models.F("diastolic_mmhg")),
                name="screening_bp_pair",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Screening {self.get_route_display()} for {self.get_indication_display()} "
            f"({self.get_status_display().lower()})"
        )

    @property
    def in_error(self) -> bool:
        return self.status == ScreeningStatus.ENTERED_IN_ERROR

    @property
    def is_signed(self) -> bool:
        return self.status == ScreeningStatus.SIGNED

    @property
    def is_draft(self) -> bool:
        return self.status == ScreeningStatus.DRAFT

    @property
    def signed_eligible(self) -> bool:
        return self.is_signed and self.clinician_decision in ELIGIBLE_DECISIONS

    def expired_on(self, day: dt.date) -> bool:
        return self.valid_until is not None and day > self.valid_until

    @property
    def derived_codes(self) -> list[str]:
        return [item["code"] for item in self.derived_findings]

    @property
    def findings_given(self) -> list[str]:
        """Codes passed to the engine: reported on the form and read from the record."""
        return list(dict.fromkeys([*self.derived_codes, *self.reported_findings]))

    @property
    def oral_antidepressant_used(self) -> bool | None:
        """What the engine was told: the answer, else yes when the record lists one."""
        if self.oral_antidepressant is None and self.oral_antidepressants_on_record:
            return True
        return self.oral_antidepressant

    @property
    def reported_findings_display(self) -> list[str]:
        vocabulary = rules.vocabulary().by_code
        return [
            vocabulary[code].finding if code in vocabulary else code
            for code in self.reported_findings
        ]

    def findings_for_display(self) -> list[dict]:
        """The engine's findings, each marked with where it came from."""
        derived = {item["code"]: item for item in self.derived_findings}
        vocabulary = rules.vocabulary().by_code
        shown = []
        for finding in self.engine_findings:
            entry = vocabulary.get(finding["code"])
            origin = "answered"
            if finding["code"] in derived:
                origin = "record"
            elif entry is not None and entry.is_computed:
                origin = "computed"
            shown.append(
                finding
                | {
                    "origin": origin,
                    "because": derived.get(finding["code"], {}).get("because", []),
                    "record_basis": derived.get(finding["code"], {}).get("basis", []),
                    "finding": entry.finding if entry else finding["code"],
                }
            )
        return shown

    def default_valid_until(self, signed_on: dt.date) -> dt.date:
        return validity.last_valid_day(signed_on)
