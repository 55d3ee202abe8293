from __future__ import annotations

from django import forms

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import STAFF

from . import vocabulary
from .models import (
    Allergy,
    AntidepressantTrial,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    Patient,
    WeightMeasurement,
)
from .services import DEMOGRAPHIC_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"


def date_widgets(*names: str) -> dict[str, forms.Widget]:
    return {name: DateInput(format="%Y-%m-%d") for name in names}


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = date_widgets("date_of_birth")
        labels = {"height_cm": "Height (cm)"}


class WeightForm(forms.ModelForm):
    class Meta:
        model = WeightMeasurement
        fields = ["weight_kg", "measured_on"]
        widgets = date_widgets("measured_on")
        labels = {"weight_kg": "Weight (kg)", "measured_on": "Measured on"}


class DiagnosisForm(forms.ModelForm):
    icd10_code = forms.ChoiceField(label="Diagnosis (ICD-10)")

    class Meta:
        model = Diagnosis
        fields = ["icd10_code", "onset_on", "notes"]
        widgets = {**date_widgets("onset_on"), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["icd10_code"].choices = [("", "Choose…")] + [
            (code.code, f"{code.code} — {code.display}")
            for code in vocabulary.icd10_codes().values()
        ]


def class_choices(antidepressants_only: bool) -> list[tuple[str, str]]:
    return [("", "Choose…")] + [
        (code, row["display"])
        for code, row in vocabulary.medication_classes().items()
        if row["antidepressant"] or not antidepressants_only
    ]


class AntidepressantTrialForm(forms.ModelForm):
    drug_class = forms.ChoiceField(choices=lambda: class_choices(antidepressants_only=True))

    class Meta:
        model = AntidepressantTrial
        fields = [
            "drug",
            "drug_class",
            "dose_mg_per_day",
            "duration_weeks",
            "outcome",
            "adequate",
            "started_on",
            "notes",
        ]
        widgets = {**date_widgets("started_on"), "notes": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "dose_mg_per_day": "Dose (mg/day)",
            "adequate": "Adequate trial (dose and duration)",
        }


class OtherTreatmentForm(forms.ModelForm):
    class Meta:
        model = OtherTreatment
        fields = ["kind", "description", "started_on", "ended_on", "outcome", "notes"]
        widgets = {
            **date_widgets("started_on", "ended_on"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class MedicationForm(forms.ModelForm):
    drug_class = forms.ChoiceField(choices=lambda: class_choices(antidepressants_only=False))

    class Meta:
        model = Medication
        fields = ["name", "drug_class", "dose", "frequency", "started_on"]
        widgets = date_widgets("started_on")


class AllergyForm(forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]


class CareTeamForm(forms.ModelForm):
    class Meta:
        model = CareTeamMember
        fields = ["role", "user", "name", "organisation", "phone", "email"]
        labels = {"user": "Clinic user", "name": "Or: outside clinician's name"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(role__in=STAFF, is_active=True).order_by(
            "last_name"
        )


class ErrorReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why is this entry wrong?")
