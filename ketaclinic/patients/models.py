"""The patient record: who the patient is, and what screening and dosing will need to know.

Clinical entries (weights, diagnoses, history, medications, allergies) are never edited in
place: a wrong one is marked ``entered-in-error`` with a reason (FHIR status words) and a new
one is recorded. Demographic edits keep old and new values in the audit trail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.utils import timezone

from . import vocabulary


class Sex(models.TextChoices):
    """FHIR AdministrativeGender."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class EntryStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    STOPPED = "stopped", "Stopped"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


def new_mrn() -> str:
    return f"KC{secrets.randbelow(10**7):07d}"


# Phone numbers are stored as typed; a search compares digits only, whatever the formatting.
PHONE_PUNCTUATION = " ()-.+/"
PHONE_LOOKING = re.compile(r"^[\d\s().+/-]+$")
PHONE_MIN_DIGITS = 7  # shorter digit runs are more likely part of a date or an MRN


def digits_only(field: str):
    """``field`` with phone punctuation removed, in the database (SQLite and PostgreSQL)."""
    expression = F(field)
    for mark in PHONE_PUNCTUATION:
        expression = Replace(expression, Value(mark), Value(""))
    return expression


def phone_digits(text: str) -> str:
    """The digits of ``text`` when it reads as a phone number, else ``""``.

    North American numbers are written with or without the country code 1, so an 11-digit
    number starting with 1 is searched without it (stored numbers are matched by substring).
    """
    if not PHONE_LOOKING.match(text):
        return ""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) >= PHONE_MIN_DIGITS else ""


class PatientQuerySet(models.QuerySet):
    def search(self, text: str) -> PatientQuerySet:
        """Patients matching every word of ``text`` (name, MRN, email), or a date of birth,
        or a phone number however it is formatted.

        A comma separates words as a space does, so "Family, Given" finds the patient.
        """
        text = text.strip()
        if not text:
            return self
        query = Q()
        for word in re.split(r"[\s,]+", text):
            if not word:
                continue
            query &= (
                Q(family_name__icontains=word)
                | Q(given_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(mrn__iexact=word)
                | Q(email__iexact=word)
            )
        with contextlib.suppress(ValueError):
            query |= Q(date_of_birth=dt.date.fromisoformat(text))
        digits = phone_digits(text)
        if digits:
            query |= Q(phone_digits__contains=digits)
            return self.alias(phone_digits=digits_only("phone")).filter(query)
        return self.filter(query)

    def id_for_mrn(self, mrn: str) -> int | None:
        """The id of the patient with this MRN (any case), or None."""
        return self.filter(mrn__iexact=mrn.strip()).values_list("pk", flat=True).first()


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=20, unique=True, default=new_mrn)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("State / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_record",
        help_text="The patient's own portal account.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [models.Index(fields=["family_name", "given_name"], name="patient_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=dt.date(1900, 1, 1)), name="patient_dob_plausible"
            ),
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__gt=0, height_cm__lt=300),
                name="patient_height_physical",
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="patient_sex_known"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age_today(self) -> int:
        return self.age_on(timezone.localdate())

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if self.date_of_birth:
            if self.date_of_birth > today:
                errors["date_of_birth"] = "Date of birth cannot be in the future."
            elif self.date_of_birth < vocabulary.earliest_birth_date():
                errors["date_of_birth"] = (
                    f"Date of birth before {vocabulary.earliest_birth_date():%Y-%m-%d} "
                    "is not plausible."
                )
        if self.height_cm is not None:
            allowed = vocabulary.record_range("height_cm")
            if not allowed.contains(self.height_cm):
                errors["height_cm"] = f"Height must be {allowed.describe('cm')}."
        if errors:
            raise ValidationError(errors)

    def current_weight(self) -> WeightMeasurement | None:
        return self.weights.valid().order_by("-measured_on", "-recorded_at").first()


class ClinicalEntry(models.Model):
    """Shared bookkeeping of every clinical list entry: who recorded it and its status."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=EntryStatus.choices, default=EntryStatus.ACTIVE
    )
    error_reason = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def in_error(self) -> bool:
        return self.status == EntryStatus.ENTERED_IN_ERROR


class EntryQuerySet(models.QuerySet):
    def valid(self) -> EntryQuerySet:
        return self.exclude(status=EntryStatus.ENTERED_IN_ERROR)


class WeightMeasurement(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weights")
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1)
    measured_on = models.DateField()

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-measured_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__gt=0, weight_kg__lt=700), name="weight_physical"
            )
        ]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        allowed = vocabulary.record_range("weight_kg")
        if self.weight_kg is not None and not allowed.contains(self.weight_kg):
            errors["weight_kg"] = f"Weight must be {allowed.describe('kg')}."
        if self.measured_on:
            if self.measured_on > timezone.localdate():
                errors["measured_on"] = "A weight cannot be measured in the future."
            elif self.patient_id and self.measured_on < self.patient.date_of_birth:
                errors["measured_on"] = "A weight cannot be measured before birth."
        if errors:
            raise ValidationError(errors)

    def age_in_days(self, today: dt.date | None = None) -> int:
        return ((today or timezone.localdate()) - self.measured_on).days


class Diagnosis(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diagnoses")
    icd10_code = models.CharField("ICD-10 code", max_length=10)
    onset_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.display}"

    @property
    def display(self) -> str:
        entry = vocabulary.icd10_codes().get(self.icd10_code)
        return entry.display if entry else "unknown code"

    @property
    def indication(self) -> str | None:
        entry = vocabulary.icd10_codes().get(self.icd10_code)
        return entry.indication if entry else None

    def clean(self) -> None:
        if self.icd10_code and self.icd10_code not in vocabulary.icd10_codes():
            raise ValidationError(
                {
                    "icd10_code": f"Unknown ICD-10 code '{self.icd10_code}': choose one of the "
                    "codes the clinic records (patients/data/icd10.yaml)."
                }
            )
        if self.onset_on and self.onset_on > timezone.localdate():
            raise ValidationError({"onset_on": "Onset cannot be in the future."})


class TrialOutcome(models.TextChoices):
    NO_RESPONSE = "no_response", "No response"
    PARTIAL = "partial_response", "Partial response"
    RESPONSE = "response", "Response"
    NOT_TOLERATED = "not_tolerated", "Stopped: not tolerated"
    ONGOING = "ongoing", "Ongoing"


class AntidepressantTrial(ClinicalEntry):
    """One antidepressant tried. Screening counts the adequate ones (REFERENCE.md section 2)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="antidepressant_trials"
    )
    drug = models.CharField(max_length=100)
    drug_class = models.CharField(max_length=30)
    dose_mg_per_day = models.DecimalField(max_digits=7, decimal_places=2)
    duration_weeks = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)
    adequate = models.BooleanField(
        help_text="Clinician's judgement: adequate dose for an adequate time."
    )
    started_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(condition=Q(dose_mg_per_day__gt=0), name="trial_dose_positive")
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose_mg_per_day} mg/day × {self.duration_weeks} wk"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        classes = vocabulary.medication_classes()
        if self.drug_class and not classes.get(self.drug_class, {}).get("antidepressant"):
            errors["drug_class"] = f"'{self.drug_class}' is not an antidepressant class."
        weeks = vocabulary.record_range("antidepressant_trial_weeks")
        if self.duration_weeks is not None and not weeks.contains(self.duration_weeks):
            errors["duration_weeks"] = f"Duration must be {weeks.describe('weeks')}."
        if self.started_on and self.started_on > timezone.localdate():
            errors["started_on"] = "A trial cannot start in the future."
        if errors:
            raise ValidationError(errors)


class TreatmentKind(models.TextChoices):
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy (individual)"
    GROUP_THERAPY = "group_therapy", "Psychotherapy (group)"
    TMS = "tms", "TMS"
    ECT = "ect", "ECT"
    KETAMINE = "ketamine", "Ketamine (any route)"
    ESKETAMINE = "esketamine", "Esketamine (Spravato)"
    OTHER = "other", "Other"


class OtherTreatment(ClinicalEntry):
    """Non-drug and past ketamine treatments seed 002 asks about before eligibility."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatments")
    kind = models.CharField(max_length=20, choices=TreatmentKind.choices)
    description = models.CharField(max_length=200, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)
    notes = models.TextField(blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-recorded_at"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self) -> None:
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": "End date is before the start date."})
        if self.started_on and self.started_on > timezone.localdate():
            raise ValidationError({"started_on": "A treatment cannot start in the future."})


class Medication(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=100)
    drug_class = models.CharField(max_length=30)
    dose = models.CharField(max_length=100, help_text="e.g. 20 mg")
    frequency = models.CharField(max_length=100, blank=True, help_text="e.g. once daily")
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}"

    @property
    def class_display(self) -> str:
        return vocabulary.medication_classes().get(self.drug_class, {}).get("display", "")

    def clean(self) -> None:
        if self.drug_class and self.drug_class not in vocabulary.medication_classes():
            raise ValidationError({"drug_class": f"Unknown medication class '{self.drug_class}'."})
        if self.started_on and self.stopped_on and self.stopped_on < self.started_on:
            raise ValidationError({"stopped_on": "Stop date is before the start date."})


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Allergy(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=100)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=AllergySeverity.choices)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


class CareRole(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    OUTSIDE_PSYCHIATRIST = "outside_psychiatrist", "Outside psychiatrist"
    PRIMARY_CARE = "primary_care", "Primary care provider"
    OTHER = "other", "Other"


class CareTeamMember(ClinicalEntry):
    """A clinician on the patient's care team: one of ours (``user``) or from outside."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    role = models.CharField(max_length=30, choices=CareRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_team_memberships",
    )
    name = models.CharField(max_length=150, blank=True, help_text="For clinicians outside.")
    organisation = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(name=""), name="careteam_member_named"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.member_name}"

    @property
    def member_name(self) -> str:
        return self.user.display_name if self.user_id else self.name

    def clean(self) -> None:
        if not self.user_id and not self.name.strip():
            raise ValidationError({"name": "Choose a clinic user or type the clinician's name."})
