"""The SPRAVATO REMS Patient Monitoring Form: definition as data, completeness, due date.

A certified setting files the form after every esketamine session, within 7 days
(REFERENCE.md section 4). The fields follow the 2021 form and live in
``data/rems_patient_monitoring_form.yaml``; the current form may differ, so nothing here
names a field. :func:`fill_form` takes what the session record knows, as a flat mapping,
and says what the form would hold, which required fields are missing and whether it is
complete.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ketaclinic.charting.vitals import DATA_DIR

FIELD_TYPES = ("text", "date", "yes_no", "integer", "choice")


class FormDefinitionError(ValueError):
    """A form definition that cannot be used."""


@dataclass(frozen=True)
class FormField:
    """One field of the form. ``required_if`` is ``(field, value)`` or ``None``."""

    code: str
    label: str
    type: str
    required: bool
    section: str
    choices: tuple[str, ...] = ()
    required_if: tuple[str, Any] | None = None

    def is_required(self, values: Mapping[str, Any]) -> bool:
        """Whether the field must be filled, given the other values of the form."""
        if self.required:
            return True
        if self.required_if is None:
            return False
        other, expected = self.required_if
        return values.get(other) == expected

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit this field, or ``None`` when it does."""
        checks = {
            "text": lambda v: isinstance(v, str) and v.strip() != "",
            "date": lambda v: isinstance(v, date) and not isinstance(v, datetime),
            "yes_no": lambda v: isinstance(v, bool),
            "integer": lambda v: _is_whole(v) and v >= 0,
            "choice": lambda v: v in self.choices,
        }
        if checks[self.type](value):
            return None
        wanted = {
            "text": "text",
            "date": "a date",
            "yes_no": "yes or no",
            "integer": "a whole number of 0 or more",
            "choice": "one of " + ", ".join(self.choices),
        }[self.type]
        return f"{self.code} must be {wanted}, not {value!r}"


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value.is_finite() and value == value.to_integral()


@dataclass(frozen=True)
class FormDefinition:
    """The form: identity, source, deadline, fields in order, and dose choices."""

    form: str
    version: str
    source: str
    due_within_days: int
    due_source: str
    fields: tuple[FormField, ...]
    dose_choice_mg: Mapping[str, Decimal]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> FormDefinition:
        """Build a definition from the shape of ``data/rems_patient_monitoring_form.yaml``."""
        fields = tuple(
            _field_from(item, section["code"])
            for section in mapping["sections"]
            for item in section["fields"]
        )
        codes = [f.code for f in fields]
        if len(set(codes)) != len(codes):
            raise FormDefinitionError("form field codes must be unique")
        for field in fields:
            if field.required_if and field.required_if[0] not in codes:
                raise FormDefinitionError(f"{field.code}: required_if names unknown field")
        return cls(
            form=str(mapping["form"]),
            version=str(mapping["version"]),
            source=str(mapping["source"]),
            due_within_days=int(mapping["due_within_days"]),
            due_source=str(mapping["due_source"]),
            fields=fields,
            dose_choice_mg=MappingProxyType(
                {k: Decimal(str(v)) for k, v in mapping.get("dose_choice_mg", {}).items()}
            ),
        )

    def field(self, code: str) -> FormField:
        """The field with ``code``."""
        for field in self.fields:
            if field.code == code:
                return field
        raise KeyError(code)


_FIELD_KEYS = {"code", "label", "type", "required", "choices", "required_if"}


def _field_from(item: Mapping[str, Any], section: str) -> FormField:
    if unknown := set(item) - _FIELD_KEYS:
        # Catches YAML slips such as an unquoted comma inside a flow mapping.
        raise FormDefinitionError(f"{item.get('code')}: unknown keys {sorted(unknown)}")
    if item["type"] not in FIELD_TYPES:
        raise FormDefinitionError(f"{item['code']}: type {item['type']!r} is unknown")
    if item["type"] == "choice" and not item.get("choices"):
        raise FormDefinitionError(f"{item['code']}: a choice field needs choices")
    condition = item.get("required_if")
    return FormField(
        code=str(item["code"]),
        label=str(item["label"]),
        type=item["type"],
        required=bool(item.get("required", False)),
        section=section,
        choices=tuple(str(c) for c in item.get("choices", ())),
        required_if=None if condition is None else (condition["field"], condition["equals"]),
    )


def load_form(path: Path = DATA_DIR / "rems_patient_monitoring_form.yaml") -> FormDefinition:
    """Load a form definition from YAML."""
    with path.open(encoding="utf-8") as handle:
        return FormDefinition.from_mapping(yaml.safe_load(handle))


DEFAULT_FORM = load_form()


@dataclass(frozen=True)
class FieldProblem:
    """A value the record holds that does not fit its field."""

    field: str
    message: str


@dataclass(frozen=True)
class FormResult:
    """The form as the record fills it.

    ``values`` has every field of the form, ``None`` where the record does not know it;
    ``missing`` lists required fields without a value, in form order; ``problems`` lists
    values of the wrong kind (those fields are also treated as missing).
    """

    values: Mapping[str, Any]
    missing: tuple[str, ...]
    problems: tuple[FieldProblem, ...]

    @property
    def complete(self) -> bool:
        """Every required field is filled with a value that fits."""
        return not self.missing and not self.problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def fill_form(known: Mapping[str, Any], definition: FormDefinition = DEFAULT_FORM) -> FormResult:
    """Fill the form from what the session record knows.

    Parameters
    ----------
    known
        Flat mapping of field code to value; keys the form does not have are ignored, so
        the caller may pass everything the session knows. ``None`` or blank text is unknown.
    """
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for field in definition.fields:
        value = known.get(field.code)
        if not _blank(value) and (message := field.problem(value)):
            problems.append(FieldProblem(field.code, message))
            value = None
        values[field.code] = None if _blank(value) else value
    missing = tuple(
        f.code for f in definition.fields if f.is_required(values) and values[f.code] is None
    )
    return FormResult(MappingProxyType(values), missing, tuple(problems))


def dose_fields(
    total_mg: Decimal | int, definition: FormDefinition = DEFAULT_FORM
) -> dict[str, Any]:
    """The form's dose fields for a session's total esketamine dose.

    56 and 84 mg map to their choices; any other total (28 mg for an older adult, say) is
    ``other`` with the dose written out.
    """
    total = Decimal(total_mg)
    for choice, mg in definition.dose_choice_mg.items():
        if total == mg:
            return {"dose": choice}
    other = int(total) if total == total.to_integral() else total
    return {"dose": "other", "dose_other_mg": other}


def due_date(treatment_date: date, definition: FormDefinition = DEFAULT_FORM) -> date:
    """Last day the form may be filed: treatment date + 7 days (REFERENCE.md section 4)."""
    return treatment_date + timedelta(days=definition.due_within_days)


def is_overdue(
    treatment_date: date,
    submitted_on: date | None,
    today: date,
    definition: FormDefinition = DEFAULT_FORM,
) -> bool:
    """Whether the form missed its deadline.

    A form filed on or before the due date is never overdue. A form not filed is overdue
    from the day after the due date. A form filed after the due date stays overdue (filed
    late) so compliance reports keep it; work lists show unfiled forms only.
    """
    if submitted_on is not None and submitted_on < treatment_date:
        raise ValueError("a form cannot be filed before the treatment date")
    filed_or_today = submitted_on if submitted_on is not None else today
    return filed_or_today > due_date(treatment_date, definition)
