"""Forms built from an instrument definition: one radio group per item."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from .models import Channel, FollowUpAction, InstrumentDefinition


def item_field_name(number: int) -> str:
    return f"item_{number}"


class AnswersForm(forms.Form):
    """The items of one instrument; every item optional (gaps save as in progress)."""

    def __init__(self, *args, definition: InstrumentDefinition, initial_answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        instrument = definition.instrument
        answers = list(initial_answers or [])
        for item in instrument.items:
            name = item_field_name(item.number)
            self.fields[name] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=[(o.value, o.text) for o in item.options],
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect,
            )
            if item.number <= len(answers) and answers[item.number - 1] is not None:
                self.initial[name] = answers[item.number - 1]

    def answers(self) -> list[int | None]:
        return [
            self.cleaned_data.get(item_field_name(item.number))
            for item in self.definition.instrument.items
        ]

    def item_fields(self):
        return [self[item_field_name(item.number)] for item in self.definition.instrument.items]


STAFF_CHANNELS = [
    (Channel.PAPER, Channel.PAPER.label),
    (Channel.PHONE, Channel.PHONE.label),
    (Channel.INTERVIEW, Channel.INTERVIEW.label),
]


class StaffEntryForm(AnswersForm):
    """Answers given on paper or by phone, or a clinician's rating, entered by staff."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rated = self.definition.rater == "clinician"
        channels = [c for c in STAFF_CHANNELS if (c[0] == Channel.INTERVIEW) == rated]
        self.fields["channel"] = forms.ChoiceField(
            label="How were the answers given?", choices=channels, initial=channels[0][0]
        )
        self.fields["answered_on"] = forms.DateField(
            label="Date the patient answered",
            initial=timezone.localdate,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text="For a paper form, the date written on it.",
        )
        # Channel and date first, then the items.
        self.order_fields(["channel", "answered_on"])

    def clean_answered_on(self):
        day = self.cleaned_data["answered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The answers cannot be from the future.")
        if day < timezone.localdate() - dt.timedelta(days=365):
            raise forms.ValidationError("Older than a year: check the date on the form.")
        return day

    def submitted_at(self) -> dt.datetime:
        day = self.cleaned_data["answered_on"]
        if day == timezone.localdate():
            return timezone.now()
        # A past date without a time: noon, clinic time, so the day never shifts in UTC.
        return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


class ResolveForm(forms.Form):
    follow_up_action = forms.ChoiceField(
        label="What was done", choices=[("", "Choose…"), *FollowUpAction.choices]
    )
    follow_up_note = forms.CharField(
        label="Follow-up note",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Who reached the patient, the risk assessed, and the plan agreed.",
    )


class ErrorForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=300)


class DefinitionLoadForm(forms.Form):
    definition = forms.CharField(
        label="Definition (YAML)",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
        help_text="Same format as the shipped files in outcomes/instruments/. Load only "
        "instruments the clinic holds a licence for (for example the C-SSRS).",
    )
    file = forms.FileField(label="…or upload a .yaml file", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].required = False

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:
                data["definition"] = upload.read(200_000).decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not (data.get("definition") or "").strip():
            raise forms.ValidationError("Paste a definition or upload a file.")
        return data
