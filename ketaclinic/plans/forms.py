from __future__ import annotations

from django import forms

from ketaclinic.patients.forms import DateInput
from ketaclinic.protocols.catalog import get_schedule
from ketaclinic.protocols.models import Protocol

from .models import WEEKDAY_NAMES
from .schedule import schedule_codes

STATUS_CHOICES = [
    ("completed", "Completed"),
    ("stopped", "Stopped"),
    ("entered-in-error", "Entered in error"),
]


class PlanForm(forms.Form):
    screening = forms.TypedChoiceField(coerce=int, label="Signed screening")
    protocol = forms.ChoiceField(label="Protocol")
    dose_mg_per_kg = forms.DecimalField(
        required=False, max_digits=6, decimal_places=3, label="Dose (mg/kg)"
    )
    dose_mg = forms.DecimalField(
        required=False,
        max_digits=7,
        decimal_places=1,
        label="Dose (mg)",
        help_text="Esketamine 28, 56 or 84 mg; or a fixed sublingual/oral dose.",
    )
    infusion_minutes = forms.IntegerField(
        required=False, label="Infusion time (min)", help_text="IV only."
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Override reason",
        help_text="Only to go outside the protocol's allowed range; recorded and audited.",
    )
    schedule_code = forms.ChoiceField(required=False, label="Course schedule")
    start_date = forms.DateField(widget=DateInput(format="%Y-%m-%d"), label="First day")
    working_weekdays = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES)),
        widget=forms.CheckboxSelectMultiple,
        label="Clinic working days",
    )
    interval_weeks = forms.IntegerField(
        required=False,
        label="Maintenance: every N weeks",
        help_text="IV maintenance schedule only.",
    )
    session_count = forms.IntegerField(
        required=False, label="Maintenance: sessions", help_text="IV maintenance schedule only."
    )
    horizon_weeks = forms.IntegerField(
        required=False,
        label="Weeks to plan",
        help_text="Esketamine schedule for treatment-resistant depression only (default 16).",
    )
    maintenance_weekly = forms.BooleanField(
        required=False,
        label="Weekly from week 9 (esketamine for treatment-resistant depression; default every 2 weeks)",
    )
    concurrent_oral_antidepressant = forms.CharField(
        required=False,
        max_length=150,
        label="Concurrent oral antidepressant",
        help_text="Required for esketamine in depression with acute suicidal ideation.",
    )
    psychotherapy_plan = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Psychotherapy integration plan",
    )
    therapist = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Integration therapist"
    )

    def __init__(self, *args, screenings=(), therapists=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["screening"].choices = [
            (
                s.pk,
                f"{s.signed_at:%Y-%m-%d} · {s.get_route_display()} for "
                f"{s.get_indication_display()} · {s.get_clinician_decision_display().lower()}",
            )
            for s in screenings
        ]
        self.fields["protocol"].choices = [
            (p.code, f"{p.name} ({p.get_route_display()})") for p in Protocol.objects.active()
        ]
        self.fields["schedule_code"].choices = [("", "None: dates set when booking")] + [
            (code, get_schedule(code).label) for code in schedule_codes()
        ]
        self.fields["therapist"].choices = [("", "—")] + [
            (member.user_id, member.member_name) for member in therapists
        ]

    def data_for_service(self) -> dict:
        return dict(self.cleaned_data)


class DoseChangeForm(forms.Form):
    dose_mg_per_kg = forms.DecimalField(
        required=False, max_digits=6, decimal_places=3, label="New dose (mg/kg)"
    )
    dose_mg = forms.DecimalField(
        required=False, max_digits=7, decimal_places=1, label="New dose (mg)"
    )
    from_session = forms.IntegerField(min_value=1, label="From session")
    reason = forms.CharField(max_length=300, label="Reason for the change")
    override_reason = forms.CharField(
        required=False, label="Override reason (outside the allowed range only)"
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, label="New status")
    reason = forms.CharField(required=False, max_length=300, label="Reason")

    def __init__(self, *args, draft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [c for c in STATUS_CHOICES if not draft or c[0] == "entered-in-error"]
        self.fields["status"].choices = [("", "Choose…"), *choices]
