"""Outcomes in the Django admin.

Instrument definitions are clinic-loadable: an admin pastes a definition (YAML), which must
pass ``parse_instrument``; every save writes ``instrument.load`` to the audit trail with the
old and new versions (the same service as the clinic's Instruments page). Responses, measures
and safety tasks are clinical records: read-only here.
"""

from __future__ import annotations

import yaml
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from ketaclinic.accounts.admin import ClinicModelAdmin, ReadOnlyAdmin

from . import services
from .definitions import DefinitionError, parse_instrument
from .models import InstrumentDefinition, MeasurementTask, Response, SafetyTask


class DefinitionForm(forms.ModelForm):
    text = forms.CharField(
        label="Definition (YAML)",
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false"}),
        help_text="Validated as the shipped files are. A change needs a higher version.",
    )

    class Meta:
        model = InstrumentDefinition
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["text"].initial = yaml.safe_dump(
                self.instance.definition, sort_keys=False, allow_unicode=True
            )

    def clean_text(self):
        data = services.parse_definition_text(self.cleaned_data["text"])
        try:
            instrument = parse_instrument(data, origin="admin")
        except DefinitionError as error:
            raise ValidationError(str(error)) from None
        current = InstrumentDefinition.objects.filter(code=instrument.code).first()
        if self.instance.pk and instrument.code != self.instance.code:
            raise ValidationError("The code of a definition cannot change; load a new one.")
        if current is not None and instrument.version <= current.version:
            raise ValidationError(
                f"{instrument.code} is at version {current.version}: raise the version."
            )
        return data


@admin.register(InstrumentDefinition)
class InstrumentDefinitionAdmin(ClinicModelAdmin):
    view_permission = "instrument.manage"
    audit_changes = False  # definition_load writes instrument.load with both versions
    form = DefinitionForm
    list_display = ["code", "name", "version", "rater", "origin", "status", "loaded_at"]
    list_filter = ["origin", "status", "rater"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        loaded = services.definition_load(request=request, data=form.cleaned_data["text"])
        obj.pk = loaded.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # Responses refer to definitions: retire one instead (status), never delete.
        return False


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    view_permission = "outcomes.view"
    patient_path = "patient"
    list_display = ["patient", "instrument", "status", "total", "band", "channel", "submitted_at"]
    list_filter = ["instrument", "status", "channel"]
    raw_id_fields = ["patient", "plan", "session", "task", "entered_by"]


@admin.register(MeasurementTask)
class MeasurementTaskAdmin(ReadOnlyAdmin):
    view_permission = "outcomes.view"
    patient_path = "patient"
    list_display = ["patient", "instrument", "reason", "opens_on", "due_on", "status"]
    list_filter = ["status", "reason", "instrument"]
    raw_id_fields = ["patient", "plan", "response"]


@admin.register(SafetyTask)
class SafetyTaskAdmin(ReadOnlyAdmin):
    view_permission = "worklist.view"
    patient_path = "patient"
    list_display = ["patient", "flag", "assigned_to", "status", "created_at", "resolved_at"]
    list_filter = ["status", "flag"]
    raw_id_fields = ["patient", "response", "assigned_to", "resolved_by"]
