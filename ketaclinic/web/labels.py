"""Codes read as words: what a page shows where the data holds a code.

Codes (``checked_in``, ``appointment.checked_in``, ``quantity_mg``) belong to the API and the
stored record; people read words ("Checked in", "Appointment: checked in", "Quantity (mg)").
Where a vocabulary has its own labels (``get_FOO_display``, a catalog's ``label``) pages use
those; these functions word what has none, such as the audit trail's actions and details.
Imports no app.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
# A dotted code names a thing and what was done to it: "patient.edit_demographics".
DOTTED = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")

# Units written at the end of a field's name, as a reader writes them.
UNITS = {
    "mg_per_min": "mg/min",
    "mg_per_kg": "mg/kg",
    "mg": "mg",
    "kg": "kg",
    "mmhg": "mmHg",
    "pct": "%",
    "bpm": "/min",
    "per_min": "/min",
    "minutes": "min",
    "min": "min",
    "cm": "cm",
    "c": "°C",
}

# Words people read differently from the code's letters.
SPELLING = {"spo2": "SpO2", "id": "ID", "mrn": "MRN", "ip": "IP", "iv": "IV", "im": "IM"}


def spelled(code: str) -> str:
    """A code's words in reading order, without capitals: ``to_submit`` → "to submit"."""
    return ": ".join(
        " ".join(SPELLING.get(word, word) for word in part.split("_")) for part in code.split(".")
    )


def words(code) -> str:
    """A code as words: ``checked_in`` → "Checked in", ``appointment.checked_in`` →
    "Appointment: checked in". Text that is not a code comes back as it is."""
    text = "" if code is None else str(code)
    if not re.fullmatch(r"[a-z][a-z0-9_.]*", text):
        return text
    sentence = spelled(text)
    return sentence[:1].upper() + sentence[1:]


def field_label(name: str) -> str:
    """A field's name as a label with its unit: ``quantity_mg`` → "Quantity (mg)"."""
    for suffix, unit in UNITS.items():
        if name.endswith(f"_{suffix}") and len(name) > len(suffix) + 1:
            return f"{words(name[: -len(suffix) - 1])} ({unit})"
    return words(name) if "_" in name else name[:1].upper() + name[1:]


def value_text(value) -> str:
    """A stored value as a reader reads it; a code becomes words, a change "old → new"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if set(value) == {"from", "to"}:
            return f"{value_text(value['from'])} → {value_text(value['to'])}"
        return "; ".join(f"{field_label(str(k))}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(value_text(item) for item in value) if value else "none"
    text = str(value)
    if DOTTED.fullmatch(text):
        return " · ".join(spelled(part) for part in text.split("."))
    return spelled(text) if CODE.fullmatch(text) else text


def transition(pair) -> str:
    """A status change as labels: ``["scheduled", "checked_in"]`` → "Scheduled → Checked in"."""
    old, new = pair
    return f"{words(old) or '—'} → {words(new)}"


def who(username: str, *, person: bool) -> str:
    """Who did it: a person's username, or an automatic job's name in words."""
    if not username:
        return "system"
    return username if person or not CODE.fullmatch(username) else f"{words(username)} (automatic)"


def detail_lines(detail) -> list[tuple[str, str]]:
    """An audit event's detail mapping as (field, value) pairs a person reads."""
    if not isinstance(detail, Mapping):
        return [("Details", value_text(detail))] if detail else []
    lines = []
    for name, value in detail.items():
        if value == "":
            continue  # an empty note or reason says nothing
        if name == "status" and isinstance(value, list | tuple) and len(value) == 2:
            lines.append(("Status", transition(value)))
        else:
            lines.append((field_label(str(name)), value_text(value)))
    return lines
