"""The Spravato REMS Patient Monitoring Form of one esketamine session: its state and writes.

``rems_facts.py`` says what the session record knows for each field; this module composes
the form from those facts and a clinician's answers for what the record cannot say (when the
patient would have been ready to leave without the 2-hour rule, say), and saves and files
it. A value from the record always wins, so fixing the chart fixes the form.
``RemsForm.values`` holds::

    {"form": ..., "version": ..., "entered": {code: value}, "fields": {code: value},
     "bases": {code: text}, "origins": {code: "record" | "entered"}}

``fields`` is the form as last saved; once submitted it is the form as filed and no longer
follows the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail

from . import rems
from .data_files import load_yaml
from .models import RemsForm, TreatmentSession
from .rems_facts import DEFINITION, FORM_STATUSES, record_facts, treatment_date

__all__ = ["DEFINITION", "FORM_STATUSES", "RemsFormState", "form_state", "shown"]


# ---------------------------------------------------------------- the form's state


def encode(value: Any) -> Any:
    """A form value as JSON: dates as ISO text, whole Decimals as int."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else str(value)
    return value


def decode(code: str, value: Any) -> Any:
    """A stored value back as the form's type; ``None`` for what cannot be read."""
    if value is None:
        return None
    kind = DEFINITION.field(code).type
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "integer" and not isinstance(value, bool):
            return int(value)
    except (TypeError, ValueError):
        return None
    return value


def decode_all(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    known = {f.code for f in DEFINITION.fields}
    return {code: decode(code, v) for code, v in (mapping or {}).items() if code in known}


@dataclass(frozen=True)
class RemsFormState:
    """The form of one session as the page shows it."""

    session: TreatmentSession
    row: RemsForm | None
    result: rems.FormResult
    bases: Mapping[str, str]
    origins: Mapping[str, str]  # "record", "entered" or "" per field
    treatment_date: dt.date
    due_date: dt.date
    today: dt.date
    entered: Mapping[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        return self.row is not None and self.row.submitted_at is not None

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def overdue(self) -> bool:
        submitted_on = timezone.localdate(self.row.submitted_at) if self.submitted else None
        return rems.is_overdue(self.treatment_date, submitted_on, self.today, DEFINITION)

    @property
    def missing_labels(self) -> list[str]:
        return [DEFINITION.field(code).label for code in self.result.missing]

    def editable(self, code: str) -> bool:
        """A clinician may answer a field the record does not fill and the form asks for
        (a conditional field, too, while the field it depends on is theirs to answer)."""
        if self.submitted or self.origins.get(code) == "record":
            return False
        item = DEFINITION.field(code)
        if item.is_required(self.result.values):
            return True
        return item.required_if is not None and self.origins.get(item.required_if[0]) != "record"

    def sections(self) -> list[dict]:
        """Fields grouped by section, in form order, with value, basis and origin."""
        grouped: dict[str, dict] = {}
        for item in DEFINITION.fields:
            label = SECTION_LABELS.get(item.section, item.section)
            section = grouped.setdefault(
                item.section, {"code": item.section, "label": label, "fields": []}
            )
            section["fields"].append(
                {
                    "field": item,
                    "value": self.result.values.get(item.code),
                    "shown": shown(item, self.result.values.get(item.code)),
                    "basis": self.bases.get(item.code, ""),
                    "origin": self.origins.get(item.code, ""),
                    "missing": item.code in self.result.missing,
                    "required": item.is_required(self.result.values),
                    "editable": self.editable(item.code),
                }
            )
        return list(grouped.values())


def _section_labels() -> dict[str, str]:
    data = load_yaml("rems_patient_monitoring_form.yaml")
    return {section["code"]: section["label"] for section in data["sections"]}


SECTION_LABELS = _section_labels()


def shown(item: rems.FormField, value: Any) -> str:
    """A value as written on the form."""
    if value is None:
        return ""
    if item.type == "yes_no":
        return "Yes" if value else "No"
    if item.type == "date":
        return f"{value:%Y-%m-%d}"
    if item.type == "choice":
        return {"56_mg": "56 mg", "84_mg": "84 mg", "other": "Other"}.get(value, str(value).title())
    return str(value)


def form_state(session: TreatmentSession, *, today: dt.date | None = None) -> RemsFormState:
    """The session's form: as filed once submitted, otherwise from the record + answers."""
    today = today or timezone.localdate()
    row = RemsForm.objects.filter(session=session).select_related("submitted_by").first()
    stored = row.values if row is not None else {}
    if row is not None and row.submitted_at is not None:
        values = decode_all(stored.get("fields"))
        day = values.get("treatment_date") or treatment_date(session)
        return RemsFormState(
            session,
            row,
            rems.fill_form(values, DEFINITION),
            dict(stored.get("bases", {})),
            dict(stored.get("origins", {})),
            day,
            rems.due_date(day, DEFINITION),
            today,
        )
    return compose(session, row, decode_all(stored.get("entered")), today)


def compose(
    session: TreatmentSession, row: RemsForm | None, entered: Mapping[str, Any], today: dt.date
) -> RemsFormState:
    """The form from the record, with a clinician's answers where the record is silent."""
    facts = record_facts(session)
    known: dict[str, Any] = {}
    bases: dict[str, str] = {}
    origins: dict[str, str] = {}
    for item in DEFINITION.fields:
        fact = facts.get(item.code)
        if fact is not None and fact.value is not None:
            known[item.code], origins[item.code] = fact.value, "record"
            bases[item.code] = fact.basis
        elif entered.get(item.code) is not None:
            known[item.code], origins[item.code] = entered[item.code], "entered"
            bases[item.code] = "entered on the form"
        elif fact is not None:
            bases[item.code] = fact.basis
    day = known.get("treatment_date") or treatment_date(session)
    return RemsFormState(
        session,
        row,
        rems.fill_form(known, DEFINITION),
        bases,
        origins,
        day,
        rems.due_date(day, DEFINITION),
        today,
        dict(entered),
    )


# ---------------------------------------------------------------- writing


def stored_values(state: RemsFormState, entered: Mapping[str, Any]) -> dict:
    return {
        "form": DEFINITION.form,
        "version": DEFINITION.version,
        "entered": {code: encode(v) for code, v in entered.items()},
        "fields": {code: encode(v) for code, v in state.result.values.items()},
        "bases": dict(state.bases),
        "origins": dict(state.origins),
    }


def _locked_form(session: TreatmentSession) -> RemsForm:
    form, _ = RemsForm.objects.get_or_create(session=session)
    return RemsForm.objects.select_for_update().get(pk=form.pk)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def checked_answers(
    state: RemsFormState, before: Mapping[str, Any], entered: Mapping[str, Any]
) -> dict[str, Any]:
    """The clinician's answers once ``entered`` is applied to ``before`` (a blank clears one);
    ``ValidationError`` naming each field the record fills or that has a wrong value."""
    answers, errors = dict(before), {}
    for code, value in entered.items():
        item = DEFINITION.field(code)
        if state.origins.get(code) == "record":
            errors[code] = "The session record fills this field; correct the chart instead."
        elif _blank(value):
            answers.pop(code, None)
        elif problem := item.problem(value):
            errors[code] = problem
        else:
            answers[code] = value
    if errors:
        raise ValidationError(errors)
    return answers


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    return {
        code: [encode(before.get(code)), encode(after.get(code))]
        for code in set(before) | set(after)
        if before.get(code) != after.get(code)
    }


def rems_form_save(*, request, session: TreatmentSession, entered: Mapping[str, Any]) -> RemsForm:
    """Store what a clinician answered for fields the record does not fill.

    A blank answer clears an earlier one. A field the record fills cannot be answered (fix
    the chart instead); a value of the wrong kind is refused, naming the field.
    """
    action = "rems.form_save"
    try:
        with transaction.atomic():
            form = _locked_form(session)
            if form.submitted_at is not None:
                raise ValidationError({"__all__": "This form was submitted; it no longer changes."})
            before = decode_all(form.values.get("entered"))
            answers = checked_answers(form_state(session), before, entered)
            state = compose(session, form, answers, timezone.localdate())
            form.values = stored_values(state, answers)
            form.save(update_fields=["values"])
            trail.record(
                action=action,
                request=request,
                patient_id=session.patient_id,
                target=form,
                detail={
                    "changes": _changes(before, answers),
                    "missing": list(state.result.missing),
                },
            )
        return form
    except ValidationError as error:
        trail.reject(request, action, error, session.patient_id, target=session)


def rems_form_submit(*, request, session: TreatmentSession) -> RemsForm:
    """File the form: only when complete, once, with who and when; its values freeze."""
    action = "rems.form_submit"
    try:
        with transaction.atomic():
            form = _locked_form(session)
            if form.submitted_at is not None:
                raise ValidationError({"__all__": "This form was already submitted."})
            state = form_state(session)
            if not state.complete:
                labels = ", ".join(state.missing_labels) or "values of the wrong kind"
                raise ValidationError({"__all__": f"The form is incomplete. Missing: {labels}."})
            form.values = stored_values(state, state.entered)
            form.submitted_at = timezone.now()
            form.submitted_by = request.user
            form.save(update_fields=["values", "submitted_at", "submitted_by"])
            trail.record(
                action=action,
                request=request,
                patient_id=session.patient_id,
                target=form,
                detail={
                    "treatment_date": state.treatment_date.isoformat(),
                    "due_date": state.due_date.isoformat(),
                    "late": state.due_date < timezone.localdate(),
                },
            )
        return form
    except ValidationError as error:
        trail.reject(request, action, error, session.patient_id, target=session)
