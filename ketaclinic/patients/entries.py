"""The kinds of clinical list entry a chart holds, in one table.

One pair of views (add, mark entered-in-error) and one API serve them all; each kind says
its model, form, the permission to record it, and the chart tab it lives on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db import models

from . import forms as entry_forms
from .models import (
    Allergy,
    AntidepressantTrial,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    WeightMeasurement,
)


@dataclass(frozen=True)
class EntryKind:
    slug: str
    audit_name: str
    label: str
    model: type[models.Model]
    form: type[forms.ModelForm]
    permission: str
    tab: str


KINDS: dict[str, EntryKind] = {
    kind.slug: kind
    for kind in [
        EntryKind(
            "weights",
            "weight",
            "weight",
            WeightMeasurement,
            entry_forms.WeightForm,
            "weight.record",
            "weights",
        ),
        EntryKind(
            "diagnoses",
            "diagnosis",
            "diagnosis",
            Diagnosis,
            entry_forms.DiagnosisForm,
            "diagnosis.record",
            "history",
        ),
        EntryKind(
            "trials",
            "antidepressant_trial",
            "antidepressant trial",
            AntidepressantTrial,
            entry_forms.AntidepressantTrialForm,
            "history.record",
            "history",
        ),
        EntryKind(
            "treatments",
            "treatment",
            "other treatment",
            OtherTreatment,
            entry_forms.OtherTreatmentForm,
            "history.record",
            "history",
        ),
        EntryKind(
            "medications",
            "medication",
            "medication",
            Medication,
            entry_forms.MedicationForm,
            "medication.record",
            "medications",
        ),
        EntryKind(
            "allergies",
            "allergy",
            "allergy",
            Allergy,
            entry_forms.AllergyForm,
            "allergy.record",
            "medications",
        ),
        EntryKind(
            "care-team",
            "care_team",
            "care team member",
            CareTeamMember,
            entry_forms.CareTeamForm,
            "careteam.edit",
            "care-team",
        ),
    ]
}
